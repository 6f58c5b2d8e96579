"""Chinese through the real app: the author's punctuation is shown and cited as written, while matching
ignores character width and traditional/simplified script."""

from __future__ import annotations

import pytest

FULL_WIDTH_PAGE = """<!doctype html><html lang="zh-CN"><head><title>ＶＰＮ连接指南</title></head><body><main>
<h1>ＶＰＮ连接指南</h1>
<p>如何连接公司ＶＰＮ？请先安装客户端（版本３.２以上），然后输入工号｜密码，点击“连接”。</p>
<h2>常见问题</h2>
<p>连接失败怎么办？检查网络，重启客户端（必要时重装）。</p>
</main></body></html>"""

HALF_WIDTH_PAGE = ("# Printer setup\n\nInstall the PrintHub driver (version 5.1), then add the printer by its "
                   "queue name | building code.")

TRADITIONAL_PAGE = ("# 路由器密碼重設\n\n忘記路由器管理密碼時，長按機身背面的重設鍵十秒鐘，指示燈閃爍後放開。"
                    "重設後請用預設帳號登入，並立即設定新的密碼。")
SIMPLIFIED_PAGE = ("# 开启两步验证\n\n在账户设置的安全页面开启两步验证，用手机扫描二维码绑定验证器，"
                   "之后登录时输入验证器显示的六位数字。")
DISTRACTORS = {
    "lights.md": "# 路由器指示灯\n\n路由器背面的指示灯：电源灯常亮表示正常，闪烁表示正在启动，熄灭请检查电源。",
    "admin-page.md": ("# 路由器管理页面\n\n忘记管理页面地址时，查看路由器底部的标签。"
                      "管理密码默认为 admin，首次登录后请修改。"),
    "wifi.md": "# 無線網路名稱\n\n在管理頁面的無線設定中修改網路名稱與密碼，儲存後裝置需要重新連線。",
    "login.md": "# 登录失败\n\n登录时提示账号或密码错误，请确认大小写，连续失败五次账户会被锁定十分钟。",
}


def _upload(client, collection, files: dict[str, str]) -> None:
    parts = [("files", (name, text.encode("utf-8"), "application/octet-stream")) for name, text in files.items()]
    response = client.post(f"/v1/collections/{collection}/documents", files=parts)
    assert response.status_code == 200, response.text


def _ask(client, collection, question, mode=None) -> dict:
    body = {"question": question, "collection": collection, "top_k": 3, **({"mode": mode} if mode else {})}
    response = client.post("/v1/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_full_width_punctuation_is_kept_in_results_and_context(client, collection):
    _upload(client, collection, {"vpn.html": FULL_WIDTH_PAGE})
    answer = _ask(client, collection, "VPN 客户端 版本3.2", mode="lexical")  # half-width question
    top = answer["results"][0]
    assert top["doc_id"] == "vpn.html"
    assert "如何连接公司ＶＰＮ？请先安装客户端（版本３.２以上），然后输入工号｜密码，点击“连接”。" in top["text"]
    assert top["title"] == "ＶＰＮ连接指南"
    assert "[1] ＶＰＮ连接指南" in answer["context"]
    assert "（版本３.２以上），然后输入工号｜密码" in answer["context"]
    document = client.get(f"/v1/collections/{collection}/documents/vpn.html").json()
    assert document["title"] == "ＶＰＮ连接指南" and document["language"] == "zh-CN"


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_width_does_not_matter_for_matching(client, collection, mode):
    _upload(client, collection, {"vpn.html": FULL_WIDTH_PAGE, "printer.md": HALF_WIDTH_PAGE})
    assert _ask(client, collection, "ｖｐｎ客户端版本", mode)["results"][0]["doc_id"] == "vpn.html"
    full_width_question = _ask(client, collection, "ＰｒｉｎｔＨｕｂ　ｄｒｉｖｅｒ　５.１", mode)
    top = full_width_question["results"][0]
    assert top["doc_id"] == "printer.md"
    assert "(version 5.1)" in top["text"] and "queue name | building code" in top["text"]


@pytest.fixture()
def zh_kb(client, collection) -> str:
    _upload(client, collection, {"reset-tw.md": TRADITIONAL_PAGE, "2fa-cn.md": SIMPLIFIED_PAGE, **DISTRACTORS})
    return collection


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_simplified_question_finds_a_traditional_page(client, zh_kb, mode):
    answer = _ask(client, zh_kb, "忘记路由器管理密码怎么重设？", mode)
    assert answer["results"][0]["doc_id"] == "reset-tw.md"
    assert "長按機身背面的重設鍵十秒鐘" in answer["results"][0]["text"]  # shown in the author's script


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_traditional_question_finds_a_simplified_page(client, zh_kb, mode):
    answer = _ask(client, zh_kb, "如何開啟兩步驗證並綁定驗證器？", mode)
    assert answer["results"][0]["doc_id"] == "2fa-cn.md"
    assert "用手机扫描二维码绑定验证器" in answer["results"][0]["text"]
