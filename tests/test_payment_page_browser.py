"""The payment page in a real browser: headless Chromium driven by Selenium, at a desktop width
(1280 px) and a phone width (390 px, and 360 px for the narrowest check), for a private and a
legal payer. The buyer clicks «Оплатить» and follows the redirect to the shop's ``successUrl``
(a tiny shop page on loopback), declines and lands on ``failUrl``, chooses a bank transfer, and
waits for the shop's answer under «Контроль отгрузки на платёжной странице». Nothing may stick
out sideways (document ``scrollWidth`` ≤ ``clientWidth``, no element past the right edge), and
the keyboard reaches every control in reading order with a visible focus.

Every page seen is saved as a full-page screenshot in ``test-artifacts/screenshots/`` for people
to look at. Without Chromium, its driver or selenium the tests skip and say so; ``.ci/run``
installs Debian's ``chromium`` and ``chromium-driver``.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from page_shop import BOOK, CLOTH, FURNITURE, LEGAL, PRIVATE, SERVICE, Shop, at

from invoicebox_flow.sandbox import Buyer, Sandbox
from invoicebox_flow.sandbox.testing import SUCCESS, NotificationReceiver, error_answer
from invoicebox_flow.serving import LoopbackServer

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install -e '.[test]'")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="needs Chromium and chromedriver (Debian: apt-get install chromium chromium-driver)"),
]

DESKTOP, PHONE, NARROWEST = 1280, 390, 360
PAYERS = {"private": PRIVATE, "legal": LEGAL}
# What Chromium needs to run headless in a container, with no network of its own.
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--no-proxy-server", "--lang=ru")
# Elements that stick out past the right edge of the viewport, or clip their own content sideways.
OVERFLOWING = """
const width = document.documentElement.clientWidth;
return [...document.querySelectorAll("body *")].filter(e => {
  const box = e.getBoundingClientRect();
  for (let a = e; a; a = a.parentElement) {  // inside a visually hidden box (headings for screen readers)
    const ab = a.getBoundingClientRect();
    if (ab.width <= 1 && getComputedStyle(a).overflow === "hidden") return false;
  }
  const clipsItself = e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && !e.matches("input, textarea")
                      && getComputedStyle(e).overflowX !== "visible";  // a field scrolls its own text
  return box.right > width + 0.5 || box.left < -0.5 || clipsItself;
}).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""));
"""


class Browser:
    """One Chromium: pages at a given width, overflow checks, full-page screenshots."""

    def __init__(self, driver: Any, screenshots: Path) -> None:
        self.driver = driver
        self.screenshots = screenshots
        self.width = DESKTOP

    def resize(self, width: int, height: int = 900) -> None:
        self.width = width
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 800})

    def show(self, url: str, width: int) -> None:
        self.resize(width)
        self.driver.get(url)

    @property
    def text(self) -> str:
        """The visible text, its no-break spaces read as plain ones."""
        text = str(self.driver.execute_script("return document.body ? document.body.innerText : ''"))
        return text.replace("\u202f", " ").replace("\u00a0", " ")

    def assert_nothing_cut_off(self) -> None:
        scroll, client = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client, f"{self.driver.current_url} is {scroll} px wide in a {client} px window"
        assert self.driver.execute_script(OVERFLOWING) == [], self.driver.current_url

    def screenshot(self, name: str) -> Path:
        """The whole page, top to bottom, at the current width."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.resize(self.width, max(int(height), 200))
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        self.resize(self.width)
        path = self.screenshots / f"{name}-{self.width}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def click(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()

    def wait_for_url(self, url: str, timeout: float = 20.0) -> None:
        WebDriverWait(self.driver, timeout).until(lambda d: d.current_url == url,
                                                  f"the browser never reached {url}")

    def wait_for_text(self, text: str, timeout: float = 20.0) -> None:
        WebDriverWait(self.driver, timeout).until(lambda d: text in self.text, f"no {text!r} on the page")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Browser]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    screenshots = pytestconfig.rootpath / "test-artifacts" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    try:
        yield Browser(driver, screenshots)
    finally:
        driver.quit()


class ShopSite:
    """The shop's own pages the buyer comes back to: ``/ok`` and ``/fail``, on loopback."""

    def __init__(self) -> None:
        self.visits: list[str] = []
        self._server = LoopbackServer(self._app, name="shop-site")
        self.success_url = f"{self._server.url}/ok"
        self.fail_url = f"{self._server.url}/fail"

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        self.visits.append(path)
        words = {"/ok": "Спасибо! Заказ оплачен.", "/fail": "Заказ не оплачен."}.get(path, "Магазин")
        body = f'<!doctype html><html lang="ru"><meta charset="utf-8"><h1 id="shop-page">{words}</h1></html>'
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    def close(self) -> None:
        self._server.close()


@pytest.fixture(scope="module")
def site() -> Iterator[ShopSite]:
    shop_site = ShopSite()
    yield shop_site
    shop_site.close()


@pytest.fixture(scope="module")
def ib() -> Iterator[Sandbox]:
    with NotificationReceiver() as receiver, Sandbox(notification_url=receiver.url) as sandbox:
        yield sandbox


@pytest.fixture
def shop(ib: Sandbox, site: ShopSite) -> Shop:
    return Shop(ib, success_url=site.success_url, fail_url=site.fail_url)


# --- paying, declining ----------------------------------------------------------------------------


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("payer", ["private", "legal"])
def test_a_buyer_pays_and_comes_back_to_the_shop(browser: Browser, ib: Sandbox, shop: Shop, site: ShopSite,
                                                 payer: str, width: int) -> None:
    order = shop.order(lines=(SERVICE, BOOK), customer=PAYERS[payer], merchantOrderIdVisible="731")
    browser.show(order["paymentUrl"], width)
    assert "Итого к оплате" in browser.text and "5 370,00 ₽" in browser.text
    browser.assert_nothing_cut_off()
    browser.screenshot(f"invoice-{payer}")

    browser.click("pay")
    browser.wait_for_url(site.success_url)
    assert browser.driver.find_element(By.ID, "shop-page").text == "Спасибо! Заказ оплачен."
    assert ib.order(order["id"])["status"] == "completed"

    browser.show(order["paymentUrl"], width)
    assert "Счёт оплачен" in browser.text and "Итого к оплате" not in browser.text
    assert browser.driver.find_elements(By.ID, "pay") == []
    browser.assert_nothing_cut_off()
    browser.screenshot(f"paid-{payer}")


def test_a_buyer_declines_and_lands_on_the_fail_url(browser: Browser, ib: Sandbox, shop: Shop, site: ShopSite) -> None:
    order = shop.order()
    browser.show(order["paymentUrl"], PHONE)
    browser.click("decline")
    browser.wait_for_url(site.fail_url)
    assert browser.driver.find_element(By.ID, "shop-page").text == "Заказ не оплачен."
    assert ib.order(order["id"])["status"] == "created"


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_an_organisation_chooses_a_bank_transfer(browser: Browser, ib: Sandbox, shop: Shop, width: int) -> None:
    order = shop.order(customer=LEGAL)
    browser.show(order["paymentUrl"], width)
    browser.click("bank-transfer")
    browser.wait_for_text("Счёт выставлен, ожидаем оплату")
    assert browser.driver.current_url == order["paymentUrl"]
    assert browser.driver.find_elements(By.ID, "bank-transfer") == []
    assert ib.order(order["id"])["status"] == "created"
    browser.assert_nothing_cut_off()
    browser.screenshot("bank-transfer")


# --- «Контроль отгрузки на платёжной странице» ------------------------------------------------------


@pytest.fixture(scope="module")
def shop_endpoint() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def controlled(shop_endpoint: NotificationReceiver) -> Iterator[Sandbox]:
    with Sandbox(notification_url=shop_endpoint.url, shipping_control=True, shop_name="Мебельный дом") as sandbox:
        yield sandbox


@pytest.mark.parametrize("answer, words, lands_on", [
    (SUCCESS, "Магазин подтвердил заказ", "success_url"),
    (error_answer("shipping_unavailable"), "Магазин не может выполнить заказ", "fail_url"),
])
def test_under_shipping_control_the_buyer_waits_for_the_shop(
        browser: Browser, controlled: Sandbox, shop_endpoint: NotificationReceiver, site: ShopSite,
        answer: tuple[int, str], words: str, lands_on: str) -> None:
    shop_endpoint.answer_with(answer)
    order = Shop(controlled, success_url=site.success_url, fail_url=site.fail_url).order(lines=(FURNITURE,))
    browser.show(order["paymentUrl"], PHONE)
    assert "Мебельный дом" in browser.text
    # What the page shows while it waits: the submission itself held back, so the wait stays on screen.
    browser.driver.execute_script("""
        const form = document.getElementById("pay-form");
        form.addEventListener("submit", event => event.preventDefault());
        form.requestSubmit();""")
    assert "магазин подтверждает заказ" in browser.text
    assert browser.driver.find_element(By.ID, "pay").get_attribute("disabled") == "true"
    browser.screenshot("shipping-control-waiting")

    browser.show(order["paymentUrl"], PHONE)
    browser.click("pay")
    browser.wait_for_text(words)
    assert browser.driver.current_url.endswith(f"/pay/order/{order['orderContainerId']}/result")
    assert "Итого к оплате" not in browser.text
    browser.assert_nothing_cut_off()
    browser.screenshot(f"shipping-control-{lands_on.removesuffix('_url')}")
    browser.wait_for_url(getattr(site, lands_on))
    assert controlled.order(order["id"])["status"] == "completed"


# --- the narrowest screen, the keyboard --------------------------------------------------------------


def test_nothing_is_cut_off_at_360_px(browser: Browser, ib: Sandbox, shop: Shop) -> None:
    long_legal = dict(LEGAL, name="Общество с ограниченной ответственностью «Северо-Западная торгово-"
                                  "производственная компания „Вектор-Инжиниринг“»")
    pages = {
        "invoice-long-private": shop.order(lines=(FURNITURE, CLOTH, SERVICE))["paymentUrl"],
        "invoice-long-legal": shop.order(lines=(FURNITURE, BOOK), customer=long_legal)["paymentUrl"],
        "not-found": f"{ib.url}/pay/order/00000000-0000-0000-0000-000000000000",
    }
    expired = shop.order(expirationDate=at(1))
    canceled = shop.order()
    shop.call("DELETE", f"/billing/api/order/order/{canceled['id']}")
    ib.advance_clock(2 * 3600)
    pages.update({"expired": expired["paymentUrl"], "canceled": canceled["paymentUrl"]})
    for landing, press in (("declined", Buyer().decline), ("done", Buyer().pay)):  # no shop pages to go back to
        pages[landing] = press(shop.order(successUrl=None, failUrl=None)["paymentUrl"])
    for name, url in pages.items():
        browser.show(url, NARROWEST)
        browser.assert_nothing_cut_off()
        browser.screenshot(name)
    browser.show(pages["not-found"], NARROWEST)
    assert "Счёт не найден" in browser.text


def test_the_keyboard_reaches_every_control_in_reading_order(browser: Browser, shop: Shop) -> None:
    order = shop.order(customer=LEGAL)
    browser.show(order["paymentUrl"], DESKTOP)
    body = browser.driver.find_element(By.TAG_NAME, "body")
    body.click()
    reached = []
    for _ in range(12):
        body.send_keys(Keys.TAB) if not reached else browser.driver.switch_to.active_element.send_keys(Keys.TAB)
        active = browser.driver.switch_to.active_element
        reached.append(active.get_attribute("id"))
        assert active.value_of_css_property("outline-style") != "none", f"no visible focus on #{reached[-1]}"
        if reached[-1] == "decline":
            break
    assert reached == ["payer-name", "payer-email", "payer-phone", "payer-vatNumber",
                       "payer-taxRegistrationReasonCode", "pay", "bank-transfer", "decline"]
