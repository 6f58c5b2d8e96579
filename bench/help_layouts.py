# ruff: noqa: E501  (HTML templates read best one element per line, however long)
"""Page layouts of help-centre and docs products whose generators are not on PyPI, written after their markup.

Each layout wraps an article body (HTML rendered from the page's Markdown source) in the chrome that product
puts around it: navigation, breadcrumbs, search, table of contents, "edit this page", "was this helpful?",
prev/next links, a cookie banner and a footer. The class names and nesting follow what each product's
default theme emits (Zendesk Guide's Copenhagen theme, Freshdesk's portal, Intercom Articles, Confluence's
page view, Docusaurus' classic theme, GitBook); they are reconstructions for measuring, not copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Page:
    """What a layout needs: the page, its neighbours and its own headings."""

    title: str
    body: str  # the article's HTML, without its title heading
    lang: str
    siblings: list[tuple[str, str]]  # (title, href) of the other pages in the section
    headings: list[tuple[str, str]]  # (text, anchor) of the article's h2/h3


def _links(items: list[tuple[str, str]], li_class: str = "", a_class: str = "") -> str:
    li = f' class="{li_class}"' if li_class else ""
    a = f' class="{a_class}"' if a_class else ""
    return "".join(f'<li{li}><a{a} href="{escape(h)}">{escape(t)}</a></li>' for t, h in items)


def _neighbours(page: Page) -> tuple[tuple[str, str], tuple[str, str]]:
    first, *rest = page.siblings or [("Home", "/")]
    return first, (rest[0] if rest else first)


_COOKIE = (
    '<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookies">'
    "<p>We use cookies to improve your experience. By using this site you accept our cookie policy.</p>"
    "<button>Accept all</button><button>Manage preferences</button></div>"
)


def zendesk(page: Page) -> str:
    """Zendesk Guide, Copenhagen theme: header, sub-nav breadcrumbs and search, article, votes, related."""
    prev, nxt = _neighbours(page)
    return f"""<!DOCTYPE html><html lang="{page.lang}" dir="ltr"><head><meta charset="utf-8">
<title>{escape(page.title)} – Example Help Center</title></head><body class="">
<a class="skip-navigation" tabindex="1" href="#main-content">Skip to main content</a>
<header class="header"><div class="logo"><a title="Home" href="/hc/en-us"><img src="logo.png" alt="Help Center home page"></a></div>
<div class="nav-wrapper-desktop"><nav class="user-nav" id="user-nav" aria-label="User navigation"><ul class="user-nav-list">
<li><a href="/hc/en-us/community">Community</a></li><li><a class="submit-a-request" href="/hc/en-us/requests/new">Submit a request</a></li>
</ul></nav><a class="sign-in" rel="nofollow" data-auth-action="signin" role="button" href="/hc/signin">Sign in</a></div></header>
<main role="main"><div class="container-divider"></div><div class="container">
<div class="sub-nav"><nav aria-label="Current location"><ol class="breadcrumbs">
<li title="Example Help Center"><a href="/hc/en-us">Example Help Center</a></li><li title="Guides"><a href="/hc/en-us/categories/1">Guides</a></li>
<li title="Getting started"><a href="/hc/en-us/sections/2">Getting started</a></li></ol></nav>
<div class="search-container"><form role="search" class="search" action="/hc/en-us/search"><input type="search" name="query" placeholder="Search" aria-label="Search"></form></div></div>
<div class="article-container" id="article-container">
<aside class="article-sidebar" aria-labelledby="section-articles-title"><div class="collapsible-sidebar">
<h3 id="section-articles-title" class="collapsible-sidebar-title sidenav-title">Articles in this section</h3>
<div class="collapsible-sidebar-body"><ul>{_links(page.siblings, a_class="sidenav-item")}</ul>
<a href="/hc/en-us/sections/2" class="article-sidebar-item">See more</a></div></div></aside>
<article id="main-content" class="article"><header class="article-header"><h1 title="{escape(page.title)}" class="article-title">{escape(page.title)}</h1>
<div class="article-author"><div class="avatar article-avatar"><img src="a.png" alt="" class="user-avatar"></div>
<div class="article-meta"><a href="/hc/en-us/profiles/3">Support Team</a><ul class="meta-group"><li class="meta-data"><time datetime="2024-05-02">May 2, 2024</time></li><li class="meta-data">Updated</li></ul></div></div>
<a class="article-subscribe" title="Opens a sign-in dialog" rel="nofollow" role="button" href="/hc/signin">Follow</a></header>
<section class="article-info"><div class="article-content"><div class="article-body">{page.body}</div>
<div class="article-attachments"></div></div></section>
<footer><div class="article-footer"><div class="article-share"><ul class="share"><li><a href="#" class="share-facebook">Facebook</a></li><li><a href="#" class="share-twitter">Twitter</a></li><li><a href="#" class="share-linkedin">LinkedIn</a></li></ul></div>
<a href="#comments" class="article-comment-count">0 comments</a></div>
<div class="article-votes"><h2 class="article-votes-question" id="article-votes-label">Was this article helpful?</h2>
<div class="article-votes-controls" role="group" aria-labelledby="article-votes-label"><button type="button" class="button article-vote article-vote-up">Yes</button><button type="button" class="button article-vote article-vote-down">No</button></div>
<small class="article-votes-count"><span class="article-vote-label">0 out of 0 found this helpful</span></small></div>
<div class="article-more-questions">Have more questions? <a href="/hc/en-us/requests/new">Submit a request</a></div>
<div class="article-return-to-top"><a href="#article-container">Return to top</a></div></footer>
<div class="article-relatives"><div data-recent-articles></div><section class="related-articles"><h2 class="related-articles-title">Related articles</h2>
<ul>{_links([prev, nxt], li_class="related-article")}</ul></section></div>
<div class="article-comments" id="article-comments"><section class="comments"><header class="comment-overview"><h2 class="comment-heading">Comments</h2><p class="comment-callout">0 comments</p></header>
<p class="comment-callout">Please <a data-auth-action="signin" rel="nofollow" href="/hc/signin">sign in</a> to leave a comment.</p></section></div>
</article></div></div></main>
<footer class="footer"><div class="footer-inner"><a title="Home" href="/hc/en-us">Example Help Center</a>
<div class="footer-language-selector"><button class="dropdown-toggle" aria-haspopup="true">English (US)</button></div></div></footer>
{_COOKIE}</body></html>"""


def freshdesk(page: Page) -> str:
    """Freshdesk support portal: header tabs, search hero, breadcrumb, article with feedback, sidebar."""
    return f"""<!DOCTYPE html><html lang="{page.lang}"><head><meta charset="utf-8"><title>{escape(page.title)} : Example Support</title></head>
<body><div class="page"><header class="banner"><div class="banner-wrapper page">
<div class="banner-title"><a href="/support/home" class="portal-logo"><span class="portal-img"><i></i><img src="logo.png" alt="Logo"></span></a>
<h1 class="ellipsis heading">Example Support</h1></div>
<nav class="banner-nav"><a href="/support/login" class="mobile-icon-nav-login ellipsis">Login</a>
<a href="/support/signup" class="mobile-icon-nav-signup ellipsis">Sign up</a></nav></div></header>
<nav class="page-tabs"><div class="nav-link" id="header-tabs"><a href="/support/home">Home</a><a href="/support/solutions" class="active">Solutions</a><a href="/support/tickets">Tickets</a></div></nav>
<section class="help-center-sc rounded-6"><div class="hc-search"><div class="hc-search-c"><h2 class="heading hide-in-mobile">How can we help you today?</h2>
<form class="hc-search-form print--remove" autocomplete="off" action="/support/search/solutions" id="hc-search-form"><div class="hc-search-input"><input placeholder="Enter your search term here..." type="text" name="term" class="special"><button type="submit" class="hc-search-button">Search</button></div></form></div></div>
<div class="hc-nav"><nav><a href="/support/tickets/new" class="mobile-icon-nav-newticket new-ticket ellipsis" title="New support ticket"><span>New support ticket</span></a><a href="/support/tickets" class="mobile-icon-nav-status check-status ellipsis"><span>Check ticket status</span></a></nav></div></section>
<div class="c-wrapper"><section class="main content rounded-6 min-height-on-desktop fc-article-show" id="article-show-1001">
<div class="breadcrumb"><a href="/support/solutions">Solution home</a><a href="/support/solutions/1">Guides</a><a href="/support/solutions/folders/2">Getting started</a></div>
<b class="page-stamp page-stamp-article"><b class="icon-page-article"></b></b>
<h2 class="heading">{escape(page.title)}<a href="#" class="solution-print--icon print--remove" title="Print this article">Print</a></h2>
<p><span class="muted">Modified on: Thu, 2 May, 2024 at 10:12 AM</span></p><hr>
<article class="article-body" id="article-body" rel="image-enlarge">{page.body}</article><hr>
<div id="article-vote" class="article-vote" data-user-id="" data-article-id="1001"><p class="article-vote">Did you find it helpful? <span data-href="/support/solutions/articles/1001/thumbs_up" class="vote-up a-link">Yes</span><span data-href="/support/solutions/articles/1001/thumbs_down" class="vote-down a-link">No</span></p>
<p class="hide">Can you please tell us how we can improve this article?</p></div>
<a class="btn btn-primary" href="#" role="button">Send feedback</a><p class="muted">Sorry we couldn't be helpful. Help us improve this article with your feedback.</p></section>
<section class="sidebar content rounded-6"><div class="cs-g-c"><section class="article-list"><h3 class="list-lead">Related Articles</h3>
<ul class="related-articles" id="related_articles">{_links(page.siblings[:5])}</ul></section></div></section></div>
<footer class="footer rounded-6"><nav class="footer-links page no-padding"><a href="/support/home">Home</a><a href="/support/solutions" class="active">Solutions</a><a href="/support/tickets">Tickets</a></nav></footer>
<div class="copyright"><a href="https://www.freshworks.com/freshdesk/" target="_blank">Help Desk Software</a> by Freshdesk</div></div>
{_COOKIE}</body></html>"""


def intercom(page: Page) -> str:
    """Intercom Articles: header with search, breadcrumb, article with author, reaction picker, footer."""
    return f"""<!DOCTYPE html><html lang="{page.lang}"><head><meta charset="utf-8"><title>{escape(page.title)} | Example Help Center</title></head>
<body><div class="flex min-h-screen flex-col"><header id="header" data-testid="header" class="flex flex-col text-header-color">
<div class="relative flex grow flex-col mb-9"><div class="header__meta_wrapper flex justify-center px-5 pt-6"><div class="flex items-center justify-between">
<a href="/en/" class="mo__body header__site_name">Example Help Center</a>
<div class="flex items-center"><div class="pr-3"><a target="_blank" rel="noopener" href="https://example.com/" class="link link-hover">Go to example.com</a></div>
<div class="relative cursor-pointer has-arrow inline-block"><div class="dropdown-toggle">English</div></div></div></div></div>
<div class="relative mx-5 mt-9"><div class="header__form search"><form action="/en/" autocomplete="off" class="flex flex-auto" role="search"><input aria-label="Search for articles..." placeholder="Search for articles..." type="text" autocomplete="off" name="q" value=""></form></div></div></div></header>
<main class="body__headerless-container"><section class="flex flex-col" data-testid="main-content"><div class="relative z-3 w-full lg:mx-auto">
<div class="flex flex-row justify-between"><div class="flex-auto"><div class="flex h-full flex-col"><div class="relative z-3 flex w-full justify-center px-5">
<div class="flex w-full flex-col"><div class="flex flex-wrap items-baseline pb-4 text-base"><a href="/en/" class="pr-2 text-body-primary-color">All Collections</a>
<div class="pr-2"><svg></svg></div><a href="/en/collections/1" class="pr-2 text-body-primary-color">Getting started</a><div class="pr-2"><svg></svg></div><div class="text-body-secondary-color">{escape(page.title)}</div></div>
<div class="article intercom-force-break"><div class="mb-10 max-lg:mb-6"><div class="flex flex-col gap-4"><div class="flex flex-col">
<header class="mb-1 font-primary text-2xl font-bold leading-10"><h1>{escape(page.title)}</h1></header>
<div class="text-md text-body-secondary-color">How to get this done in a few steps</div></div>
<div class="avatar"><div class="avatar__info -mt-0.5 text-base"><span class="text-body-secondary-color"><div>Written by <span>Alex Example</span></div>Updated over a week ago</span></div></div></div></div>
<div class="jsx-adf6bb7a4bba7c2d flex-col"><div class="article_body"><article class="jsx-adf6bb7a4bba7c2d">{page.body}</article></div></div></div></div></div>
<section class="content-block mt-20"><div class="intercom-reaction-picker" dir="ltr"><div class="intercom-reaction-prompt">Did this answer your question?</div>
<div class="intercom-reaction-container"><button class="intercom-reaction" aria-label="Disappointed Reaction">😞</button><button class="intercom-reaction" aria-label="Neutral Reaction">😐</button><button class="intercom-reaction" aria-label="Smiley Reaction">😃</button></div></div></section>
</div></div></div></div></div></section></main>
<footer id="footer" class="mt-24 shrink-0 bg-footer-background-color px-0 py-12 text-left text-base text-footer-color"><div class="shrink-0 grow basis-0 px-5">
<div class="flex flex-col items-center gap-6"><div class="text-center"><a href="/en/" class="text-footer-color">Example Help Center</a></div>
<ul class="flex flex-wrap justify-center gap-4"><li><a href="https://twitter.com/example">Twitter</a></li><li><a href="https://www.linkedin.com/company/example">LinkedIn</a></li></ul></div></div></footer></div>
{_COOKIE}</body></html>"""


def confluence(page: Page) -> str:
    """Confluence page view: space sidebar tree, breadcrumbs, page metadata, wiki content, likes, comments."""
    return f"""<!DOCTYPE html><html lang="{page.lang}"><head><meta charset="utf-8"><title>{escape(page.title)} - IT Knowledge Base - Confluence</title></head>
<body id="com-atlassian-confluence" class="theme-default aui-layout aui-theme-default">
<div id="page"><header id="header" role="banner"><nav class="aui-header aui-dropdown2-trigger-group" role="navigation"><div class="aui-header-inner">
<div class="aui-header-primary"><span id="logo" class="aui-header-logo"><a href="/"><span class="aui-header-logo-device">Confluence</span></a></span>
<ul class="aui-nav"><li><a href="/spaces" class="aui-nav-link">Spaces</a></li><li><a href="/people" class="aui-nav-link">People</a></li><li><a href="/create" class="aui-button aui-button-primary">Create</a></li></ul></div>
<div class="aui-header-secondary"><ul class="aui-nav"><li><form id="quick-search" class="aui-quicksearch" method="get" action="/dosearchsite.action"><input id="quick-search-query" class="quick-search-query" type="text" placeholder="Search" name="queryString"></form></li></ul></div></div></nav></header>
<div class="ia-splitter"><div class="ia-splitter-left"><div class="ia-fixed-sidebar"><div class="acs-side-bar ia-scrollable-section">
<div class="acs-side-bar-space-info tipsy-enabled"><div class="avatar"><img src="space.png" alt=""></div><div class="space-information-container"><a href="/display/IT" class="space-name">IT Knowledge Base</a></div></div>
<div class="acs-nav-wrapper"><div class="acs-nav" data-has-create-permission="false"><div class="acs-nav-sections"><div class="ia-secondary-header"><h5 class="ia-secondary-header-title">Page tree</h5></div>
<div class="ia-secondary-content"><div class="plugin_pagetree"><ul class="plugin_pagetree_children_list">{_links(page.siblings, li_class="plugin_pagetree_children_content")}</ul></div></div></div></div></div>
<div class="ia-secondary-footer"><a href="/spaces/viewspace.action?key=IT" class="aui-button">Space tools</a></div></div></div></div>
<div class="ia-splitter-right"><div id="main" class="aui-page-panel"><div id="main-header"><div id="navigation" class="content-navigation view">
<ul class="ajs-menu-bar"><li class="ajs-button normal"><a id="editPageLink" href="/pages/editpage.action?pageId=1" class="aui-button aui-button-subtle edit" title="Edit"><span>Edit</span></a></li>
<li class="ajs-button normal"><a href="#" class="aui-button aui-button-subtle" title="Share this page with others"><span>Share</span></a></li></ul></div>
<div id="breadcrumb-section"><nav aria-label="Breadcrumbs"><ol id="breadcrumbs"><li class="first"><span><a href="/collector/pages.action?key=IT">Pages</a></span></li><li><span><a href="/display/IT/Guides">Guides</a></span></li></ol></nav></div>
<h1 id="title-heading" class="pagetitle with-breadcrumbs"><span id="title-text"><a href="/display/IT/page">{escape(page.title)}</a></span></h1></div>
<div id="content" class="page view"><div class="page-metadata"><ul><li class="page-metadata-modification-info">Created by <span class="author"><a href="/display/~alex" class="url fn">Alex Example</a></span>, last modified on <a class="last-modified" href="/pages/diffpages.action?pageId=1">May 02, 2024</a></li></ul></div>
<div id="main-content" class="wiki-content">{page.body}</div>
<div id="likes-and-labels-container"><div id="likes-section"><a href="#" class="like-button"><span class="aui-icon aui-icon-small aui-iconfont-like"></span><span>Like</span></a><div class="like-summary">Be the first to like this</div></div>
<div id="labels-section" class="pageSection group"><div class="labels-section-content content-column"><div class="labels-content"><ul class="label-list"><li class="aui-label"><a class="aui-label-split-main" href="/label/IT/howto">howto</a></li></ul></div></div></div></div>
<div id="comments-section" class="pageSection group"><div class="section-header"><h2 id="comments-section-title" class="section-title">Comments</h2></div><div class="quick-comment-container"><div class="quick-comment-prompt"><span>Write a comment…</span></div></div></div>
</div></div></div></div>
<div id="footer" role="contentinfo"><section class="footer-body"><ul id="poweredby"><li class="noprint">Powered by <a href="https://www.atlassian.com/software/confluence" class="hover-footer-link">Atlassian Confluence</a></li>
<li class="print-only">Printed by Atlassian Confluence</li></ul><ul id="footer-links"><li><a href="#" class="hover-footer-link">Report a bug</a></li><li><a href="#" class="hover-footer-link">Atlassian News</a></li></ul></section></div></div>
</body></html>"""


def docusaurus(page: Page) -> str:
    """Docusaurus classic theme: navbar, doc sidebar, breadcrumbs, markdown, edit link, pagination, TOC."""
    prev, nxt = _neighbours(page)
    toc = "".join(
        f'<li><a href="#{a}" class="table-of-contents__link toc-highlight">{escape(t)}</a></li>' for t, a in page.headings
    )
    return f"""<!DOCTYPE html><html lang="{page.lang}" dir="ltr" class="docs-wrapper plugin-docs plugin-id-default docs-version-current docs-doc-page" data-theme="light"><head><meta charset="UTF-8">
<title data-rh="true">{escape(page.title)} | Example Docs</title></head><body class="navigation-with-keyboard">
<div id="__docusaurus"><div role="region" aria-label="Skip to main content"><a class="skipToContent_fXgn" href="#__docusaurus_skipToContent_fallback">Skip to main content</a></div>
<nav aria-label="Main" class="navbar navbar--fixed-top"><div class="navbar__inner"><div class="navbar__items"><a class="navbar__brand" href="/"><b class="navbar__title text--truncate">Example Docs</b></a>
<a aria-current="page" class="navbar__item navbar__link navbar__link--active" href="/docs/intro">Docs</a><a class="navbar__item navbar__link" href="/blog">Blog</a></div>
<div class="navbar__items navbar__items--right"><a href="https://github.com/example/example" target="_blank" rel="noopener noreferrer" class="navbar__item navbar__link">GitHub</a>
<div class="navbarSearchContainer_Bca1"><button type="button" class="DocSearch DocSearch-Button" aria-label="Search"><span class="DocSearch-Button-Placeholder">Search</span></button></div></div></div></nav>
<div id="__docusaurus_skipToContent_fallback" class="main-wrapper mainWrapper_z2l0"><div class="docsWrapper_hBAB"><div class="docRoot_UBD9">
<aside class="theme-doc-sidebar-container docSidebarContainer_YfHR"><div class="sidebarViewport_aRkj"><div class="sidebar_njMd"><nav aria-label="Docs sidebar" class="menu thin-scrollbar menu_SIkG">
<ul class="theme-doc-sidebar-menu menu__list">{_links(page.siblings, li_class="theme-doc-sidebar-item-link menu__list-item", a_class="menu__link")}</ul></nav></div></div></aside>
<main class="docMainContainer_TBSr"><div class="container padding-top--md padding-bottom--lg"><div class="row"><div class="col docItemCol_VOVn"><div class="docItemContainer_Djhp"><article>
<nav class="theme-doc-breadcrumbs breadcrumbsContainer_Z_bl" aria-label="Breadcrumbs"><ul class="breadcrumbs"><li class="breadcrumbs__item"><a aria-label="Home page" class="breadcrumbs__link" href="/">🏠</a></li>
<li class="breadcrumbs__item"><span class="breadcrumbs__link">Guides</span></li><li class="breadcrumbs__item breadcrumbs__item--active"><span class="breadcrumbs__link">{escape(page.title)}</span></li></ul></nav>
<div class="tocCollapsible_ETCw theme-doc-toc-mobile tocMobile_ITEo"><button type="button" class="clean-btn tocCollapsibleButton_TO0P">On this page</button></div>
<div class="theme-doc-markdown markdown"><header><h1>{escape(page.title)}</h1></header>{page.body}</div>
<footer class="theme-doc-footer docusaurus-mt-lg"><div class="row margin-top--sm theme-doc-footer-edit-meta-row"><div class="col"><a href="https://github.com/example/example/edit/main/docs/page.md" target="_blank" rel="noopener noreferrer" class="theme-edit-this-page">Edit this page</a></div>
<div class="col lastUpdated_JAkA"><span class="theme-last-updated">Last updated on <b><time datetime="2024-05-02T00:00:00.000Z">May 2, 2024</time></b></span></div></div></footer></article>
<nav class="pagination-nav docusaurus-mt-lg" aria-label="Docs pages"><a class="pagination-nav__link pagination-nav__link--prev" href="{escape(prev[1])}"><div class="pagination-nav__sublabel">Previous</div><div class="pagination-nav__label">{escape(prev[0])}</div></a>
<a class="pagination-nav__link pagination-nav__link--next" href="{escape(nxt[1])}"><div class="pagination-nav__sublabel">Next</div><div class="pagination-nav__label">{escape(nxt[0])}</div></a></nav></div></div>
<div class="col col--3"><div class="tableOfContents_bqdL thin-scrollbar theme-doc-toc-desktop"><ul class="table-of-contents table-of-contents__left-border">{toc}</ul></div></div></div></div></main></div></div></div>
<footer class="footer footer--dark"><div class="container container-fluid"><div class="row footer__links"><div class="col footer__col"><div class="footer__title">Docs</div><ul class="footer__items clean-list"><li class="footer__item"><a class="footer__link-item" href="/docs/intro">Tutorial</a></li></ul></div>
<div class="col footer__col"><div class="footer__title">Community</div><ul class="footer__items clean-list"><li class="footer__item"><a href="https://stackoverflow.com/questions/tagged/example" class="footer__link-item">Stack Overflow</a></li></ul></div></div>
<div class="footer__bottom text--center"><div class="footer__copyright">Copyright © 2024 Example, Inc. Built with Docusaurus.</div></div></div></footer></div>
{_COOKIE}</body></html>"""


def gitbook(page: Page) -> str:
    """GitBook-like: header with search, left table of contents, page with on-this-page outline and pager."""
    prev, nxt = _neighbours(page)
    outline = "".join(f'<li><a href="#{a}">{escape(t)}</a></li>' for t, a in page.headings)
    return f"""<!DOCTYPE html><html lang="{page.lang}"><head><meta charset="utf-8"><title>{escape(page.title)} | Example Guide</title></head>
<body><div class="scroll-nojump"><header class="flex flex-row h-[64px] sticky top-0 z-10 w-full"><div class="flex items-center gap-4 px-4">
<a class="group/headerlogo flex items-center" href="/"><img alt="Logo" src="logo.png"><div class="text-pretty line-clamp-2 tracking-tight">Example Guide</div></a>
<div class="flex grow-0 shrink-0 md:basis-56 justify-self-end"><button type="button" class="search-button flex items-center"><span>Search...</span><span class="shortcut">Ctrl K</span></button></div></div></header>
<div class="flex flex-col lg:flex-row lg:justify-center"><aside data-testid="table-of-contents" class="group text-sm grow-0 shrink-0 basis-full lg:basis-72 page-no-toc:lg:basis-56 relative">
<div class="toc-scroll flex flex-col gap-4"><ul class="flex flex-col gap-y-0.5">{_links(page.siblings, a_class="toclink flex flex-row justify-between")}</ul>
<div class="mt-4 powered-by"><a href="https://www.gitbook.com/" class="text-sm">Powered by GitBook</a></div></div></aside>
<div class="flex-1 relative py-8 lg:px-12 break-anywhere page-api-block:xl:max-2xl:pr-0 page-api-block:max-w-[1654px]">
<header class="max-w-3xl page-full-width:max-w-screen-2xl mx-auto mb-6 space-y-3 page-api-block:ml-0 page-api-block:max-w-full"><h1 class="text-4xl font-bold flex items-center gap-4 w-full">{escape(page.title)}</h1></header>
<div class="whitespace-pre-wrap [&amp;>*]:mx-auto grid">{page.body}</div>
<div class="flex flex-col md:flex-row mt-6 gap-2 max-w-3xl page-full-width:max-w-screen-2xl mx-auto page-api-block:ml-0"><a class="group text-sm p-2.5 flex gap-4 flex-1 flex-row-reverse items-center pl-4 border rounded" href="{escape(prev[1])}"><span class="flex flex-col flex-1 text-right"><span class="text-xs">Previous</span><span class="text-base">{escape(prev[0])}</span></span></a>
<a class="group text-sm p-2.5 flex gap-4 flex-1 flex-row items-center pr-4 border rounded" href="{escape(nxt[1])}"><span class="flex flex-col flex-1"><span class="text-xs">Next</span><span class="text-base">{escape(nxt[0])}</span></span></a></div>
<div class="flex flex-row items-center mt-6 max-w-3xl mx-auto"><p class="text-sm">Last updated 3 months ago</p></div>
<div class="mt-6 flex flex-row gap-2"><span>Was this helpful?</span><button class="rating">👍</button><button class="rating">👎</button></div></div>
<aside class="group/aside hidden xl:flex flex-col basis-56 grow-0 shrink-0 pt-8 pb-4 sticky"><div class="page-outline"><div class="flex flex-row items-center gap-2 text-xs"><span>On this page</span></div><ul class="flex flex-col border-l">{outline}</ul></div></aside></div></div>
{_COOKIE}</body></html>"""


def bare(page: Page) -> str:
    """A hand-made page: no main/article wrapper, the article straight in body, a link list and a footer line."""
    return f"""<!DOCTYPE html><html lang="{page.lang}"><head><meta charset="utf-8"><title>{escape(page.title)}</title></head>
<body><div class="top"><a href="/">Home</a> | <a href="/help/">Help</a> | <a href="/contact">Contact</a></div>
<h1>{escape(page.title)}</h1>{page.body}
<p class="updated">Last updated: 2024-05-02</p><hr><p><a href="/">Back to the help index</a></p></body></html>"""


LAYOUTS = {
    "zendesk": zendesk,
    "freshdesk": freshdesk,
    "intercom": intercom,
    "confluence": confluence,
    "docusaurus": docusaurus,
    "gitbook": gitbook,
    "bare": bare,
}
