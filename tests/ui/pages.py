"""A page object for the app in Chromium: ask, wait for the answer, open a citation; it records
dialogs, page errors and the hosts the page talked to, so tests can check that nothing else ran."""

from __future__ import annotations

from urllib.parse import urlparse

FINISHED = ":not([data-status=queued]):not([data-status=searching]):not([data-status=writing]):not([data-status=checking])"


class ChatPage:
    def __init__(self, page, url: str, *, timeout_s: float = 60.0):
        self.page = page
        self.url = url
        self.timeout_ms = timeout_s * 1000
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.hosts.add(urlparse(r.url).netloc or r.url.split(":", 1)[0]))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self) -> None:
        self.page.goto(self.url)
        self.page.wait_for_selector("#nqa-chat .nqa-chat", timeout=self.timeout_ms)

    # ------------------------------------------------------------------ chat
    def turns(self) -> int:
        return self.page.locator("#nqa-chat .nqa-turn").count()

    def submit(self, question: str) -> int:
        """Type and send a question; returns the number its turn will have."""
        n = self.turns() + 1
        box = self.page.locator("#nqa-question textarea")
        box.fill(question)
        box.press("Enter")
        return n

    def answer(self, n: int):
        """The answer block of turn ``n`` once it is finished (answered, abstained or failed)."""
        sel = f"#nqa-chat .nqa-turn[data-turn='{n}'] .nqa-a[data-status]{FINISHED}"
        self.page.wait_for_selector(sel, timeout=self.timeout_ms)
        return self.page.locator(sel)

    def ask(self, question: str):
        return self.answer(self.submit(question))

    def status(self, n: int) -> str:
        return self.answer(n).get_attribute("data-status") or ""

    def open_citation(self, n: int, index: int = 0):
        """Click the ``index``-th citation marker of turn ``n``; returns the citation card."""
        self.answer(n).locator(".nqa-cite").nth(index).click()
        card = self.page.locator("#nqa-chat .nqa-card")
        card.wait_for(state="visible", timeout=self.timeout_ms)
        return card

    def new_conversation(self) -> None:
        self.page.locator("#nqa-new-btn").click()
        self.page.wait_for_selector("#nqa-chat .nqa-empty", timeout=self.timeout_ms)

    def sources(self):
        return self.page.locator("#nqa-sources")

    # ------------------------------------------------------------------ articles tab
    def articles_tab(self) -> None:
        self.page.get_by_role("tab", name="Articles").click()
        self.page.wait_for_selector("#nqa-articles .nqa-stats", timeout=self.timeout_ms)

    def ingest(self) -> None:
        """Click "Add to index" and wait until this run's report is shown and the event is over."""
        report = self.page.locator("#nqa-ingest-report")
        before = report.inner_html()
        self.page.locator("#nqa-ingest").click()
        self.page.wait_for_function(
            """before => {
                const r = document.querySelector('#nqa-ingest-report');
                const tracker = r && r.querySelector('[data-testid=status-tracker]');
                return r && r.innerHTML !== before && (!tracker || tracker.classList.contains('hide'));
            }""",
            arg=before, timeout=self.timeout_ms,
        )

    def screenshot(self, path) -> None:
        self.page.screenshot(path=str(path), full_page=True)

    def injected(self) -> dict:
        """Traces a payload would leave if it had run or been parsed as HTML."""
        return self.page.evaluate(
            """() => ({
                flag: window.__xss === undefined ? null : String(window.__xss),
                imgs: document.querySelectorAll('img[src="x"]').length,
                scripts: Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('__xss')).length,
                bold: Array.from(document.querySelectorAll('#nqa-chat b, #nqa-sources b, #nqa-articles b'))
                        .filter(b => b.textContent === 'bold?').length,
                js_links: document.querySelectorAll('a[href^="javascript:"]').length,
            })"""
        )
