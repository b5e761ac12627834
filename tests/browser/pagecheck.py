"""Checks that look at the page: every page of every role, on its people's device (an office desktop, an employer's
phone) in Chinese and English, and on the other device in Chinese (`role_matrix`).

The pages are the application's own: every GET rule of its url_map that answers HTML, with the URL parameters
filled from the live demo data by following the links the role's pages show (so a new page is checked without
a list to keep up to date; a rule no role reaches fails tests/browser/test_pages_coverage.py unless SKIPPED says
why). Each page is opened in Chromium and checked (pagecheck.js):

- overflow: the page is no wider than the viewport;
- wrap: no label, button, link, header cell ... wraps inside a word (measured per character with
  Range.getClientRects, words from Intl.Segmenter: "状/态", "退出登/录");
- nav: the navigation takes one row (on a phone the name and a menu button that opens the rest);
- code: no snake_case or stored code ("duty_crime", "male") in a Chinese page;
- punctuation: no Chinese punctuation next to English words in an English page ("Sent to base：3");
- date: dates and times in the one style of the `date`/`instant` filters (matcher/web/filters.py);
- axe: axe-core (vendored, injected here only), no serious or critical WCAG 2.1 AA violation.

Every page is photographed into test-artifacts/gallery/ (role × device × language, with an index.html). A
finding listed in KNOWN_PAGE_FINDINGS.md (a page another change owns) is reported, not failed; every other
finding fails the test with its page, device, language and the offending text.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import CHROMIUM, DEMO_PASSWORD, LANGUAGES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GALLERY = ROOT / "test-artifacts" / "gallery"
AXE = ROOT / "matcher" / "static" / "vendor" / "axe" / "axe.min.js"
KNOWN = HERE / "KNOWN_PAGE_FINDINGS.md"
CHECK_JS = (HERE / "pagecheck.js").read_text(encoding="utf-8")

ROLES = {"caseworker": "cw330782001", "employer": "employer", "organiser": "organiser", "administrator": "admin"}
DEVICES = {  # an office desktop and a phone (CSS pixels; screenshots at 1x keep the gallery small and quick)
    "desktop": {"viewport": {"width": 1366, "height": 768}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
MATRIX = [(device, lang) for device in DEVICES for lang in LANGUAGES]
MATRIX_IDS = [f"{device}-{lang}" for device, lang in MATRIX]
AXE_ON = {("desktop", "zh"), ("phone", "zh")}  # axe is slow; the English pages have the same structure
# Each role's people use one device (offices a desktop, employers a phone): its pages are audited with axe there
# (axe's WCAG rules read the structure, names and contrast, which the viewport does not change), and checked there
# in both languages. On the other device they are checked in Chinese, the default: a page that fits a phone in
# Chinese and a desktop in English has no layout of its own left for a phone in English (the one layout, CSS).
AXE_DEVICE = {"employer": "phone", "administrator": "desktop", "caseworker": "desktop", "organiser": "desktop"}


def axe_on(role: str | None, device: str, lang: str) -> bool:
    return (device, lang) in AXE_ON and AXE_DEVICE.get(role or "", device) == device


def role_matrix(role: str) -> list[tuple[str, str]]:
    """(device, language) each of the role's pages is checked on: its device in both languages, the other in
    Chinese."""
    own = AXE_DEVICE[role]
    return [(device, lang) for device, lang in MATRIX if device == own or lang == "zh"]


def matrix_ids(matrix: list[tuple[str, str]]) -> list[str]:
    return [f"{device}-{lang}" for device, lang in matrix]
HEADER_MAX = 110  # px: the navigation's one row (on a phone: the name and the menu button), with its margins

# GET rules that are not pages a person looks at, or are checked elsewhere, and why.
SKIPPED = {
    "static": "static files",
    "web.language": "switches the language and redirects back (every page is checked in both languages)",
    "web.login": "the login page has no role: checked logged out in test_pages_public.py",
    "web.home": "redirects to the role's home, which is checked",
    "ops.healthz": "machine endpoint (JSON), not a page",
    "ops.readyz": "machine endpoint (JSON), not a page",
    "ops.metrics": "machine endpoint (Prometheus text), not a page",
    "web.job_status": "JSON polled by the job page",
    "web.admin_reports_xlsx": "spreadsheet download",
    "web.exports_download": "spreadsheet download",
    "web.exports_request_file": "spreadsheet download",
    "web.organiser_fair_plan_xlsx": "spreadsheet download",
    "web.place_townships": "an htmx fragment (the township options of the place picker), not a page",
}
DOWNLOAD = re.compile(r"\.(xlsx|csv|json|ics|pdf|zip)$|/file$")
MAX_PAGES_PER_ROLE = 80

# Dates and times: the one style of matcher/web/filters.py (zh: 2026年12月7日 09:30（北京时间）, en: Dec 7, 2026
# 09:30 (China time)). Patterns in JavaScript syntax.
TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?![\d:])"
DATES_COMMON = [
    ("ISO date", r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])"),
    ("date with slashes", r"(?<![\d/])(\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4})(?![\d/])"),
    ("UTC shown", r"\bUTC\b|GMT|[+-]00:?00\b|\d{2}:\d{2}:\d{2}\.\d"),
]
DATES = {
    "zh": DATES_COMMON + [
        ("English date in a Chinese page", r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}"),
        ("time without （北京时间）", r"\d{4}年\d{1,2}月\d{1,2}日\s*" + TIME + r"(?!\s*（北京时间）)"),
    ],
    "en": DATES_COMMON + [
        ("Chinese date in an English page", r"\d{4}年\d{1,2}月\d{1,2}日"),
        ("time without (China time)", r"\b[A-Z][a-z]{2} \d{1,2}, \d{4},? " + TIME + r"(?! \(China time\))"),
    ],
}
# Latin words a Chinese page may show: the product's name, file formats, the language switch.
# Login names are names, not codes (the demo's organiser, employer, admin2, cw330782001, base12).
ALLOW = r"Xintu|English|xlsx|csv|ics|https?://\S+|\b(organiser|employer|admin\d*|cw\d+|base\d+)\b"


@dataclass(frozen=True)
class Finding:
    check: str
    role: str
    device: str
    lang: str
    path: str
    text: str
    where: str = ""

    def line(self) -> str:
        where = f" [{self.where}]" if self.where else ""
        return f"{self.check:<11} {self.role}/{self.device}/{self.lang} {self.path}: {self.text}{where}"


# ---- which pages ------------------------------------------------------------------------------------

def page_rules(app) -> list:
    """Every GET rule of the app that may be a page (not skipped, not a download)."""
    return [rule for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint not in SKIPPED and not rule.rule.startswith("/api")
            and not DOWNLOAD.search(rule.rule)]


HREF = re.compile(r'href="(/[^"#]*)"')


def discover(live, request, app) -> list[tuple[str, str]]:
    """The role's pages as (endpoint, path): each GET rule without parameters that answers the role with HTML,
    each rule with parameters through the first link to it that the role's pages show, and then each rule still
    not reached with the parameter values those links held (fair_id=1 ...)."""
    adapter = app.url_map.bind("localhost")
    rules = page_rules(app)
    queue = [rule.rule for rule in rules if not rule.arguments]
    tried: dict[str, int] = {}
    found: dict[str, str] = {}
    values: dict[str, object] = {}

    def visit(path: str) -> None:
        try:
            endpoint, args = adapter.match(urlsplit(path).path, method="GET")
        except Exception:  # noqa: BLE001 - a link to no rule (or to a redirect rule)
            return
        if endpoint in found or endpoint in SKIPPED or tried.get(endpoint, 0) >= 3:
            return
        tried[endpoint] = tried.get(endpoint, 0) + 1
        response = request.get(live(path), max_redirects=0)
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            return
        found[endpoint] = path
        for name, value in args.items():
            values.setdefault(name, value)
        for href in HREF.findall(response.text()):
            href = html.unescape(href)
            if "?" in href or DOWNLOAD.search(href) or href.startswith(("/static", "/api", "/language")):
                continue
            queue.append(href)

    while queue and len(found) < MAX_PAGES_PER_ROLE:
        visit(queue.pop(0))
    for rule in rules:
        if rule.endpoint not in found and rule.arguments and rule.arguments <= values.keys():
            visit(adapter.build(rule.endpoint, {name: values[name] for name in rule.arguments}))
    return sorted(found.items(), key=lambda item: item[1])


def arrange(live) -> None:
    """What the demo city lacks for a page to exist: a job (the job page), and an interview a base arranged for
    one of the caseworker's referrals (the interview section and the printed slip)."""
    import datetime as dt

    from sqlalchemy import select

    from matcher import clock
    from matcher.auth.models import Account, Role
    from matcher.candidates.models import Candidate
    from matcher.interviews import service as interviews
    from matcher.interviews.models import ReferralInterview
    from matcher.jobs.models import Job, JobStatus
    from matcher.referrals.models import Referral
    from matcher.slots.models import Slot

    with live.db() as session:
        if session.scalar(select(Job.id).limit(1)) is None:
            admin = session.scalar(select(Account).where(Account.username == ROLES["administrator"]))
            now = clock.now()
            session.add(Job(kind="train", status=JobStatus.FAILED, done=1, total=3, message="Training",
                            params_json="{}", error="Too few outcomes to learn from.", created_by_id=admin.id,
                            created_at=now, started_at=now, finished_at=now))
        if session.scalar(select(ReferralInterview.id).limit(1)) is None:
            caseworker = session.scalar(select(Account).where(Account.username == ROLES["caseworker"]))
            referral = session.scalars(
                select(Referral).join(Candidate, Candidate.id == Referral.candidate_id)
                .where(Candidate.office_id == caseworker.office_id,
                       Referral.status.in_(interviews.OPEN_FOR_INTERVIEW)).order_by(Referral.id)).first()
            if referral is not None:
                company_id = session.get(Slot, referral.slot_id).company_id
                employer = session.scalar(select(Account).where(Account.role == Role.EMPLOYER,
                                                                Account.company_id == company_id))
                starts = clock.at_china_time(clock.today() + dt.timedelta(days=2), dt.time(9, 30))
                interview = interviews.propose(session=session, actor=employer, referral_id=referral.id,
                                               starts_at=starts, place="义乌市稠城街道工人路 8 号 二楼",
                                               contact_name="王经理", contact_phone="0579-85123456")
                interviews.act(session=session, actor=caseworker, interview_id=interview.id, action="confirm")


# Pages of an office role that an administrator may open too: checked once, as that role.
OTHER_ROLES_PAGES = re.compile(r"^/(organiser|fairs|caseworker|employer)(/|$)")


def login(context, live, username: str) -> None:
    page = context.new_page()
    page.goto(live("/login"))
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").first.click()
    assert "/login" not in page.url, f"login as {username} failed"
    page.close()


def role_pages(live, browser, role: str) -> list[tuple[str, str]]:
    """The role's pages, found once per session (the same for every device and language)."""
    key = ("pagecheck", role)
    if key not in live.ids:
        context = browser.new_context()
        try:
            arrange(live)
            login(context, live, ROLES[role])
            pages = discover(live, context.request, live.app)
            if role == "administrator":
                pages = [(endpoint, path) for endpoint, path in pages if not OTHER_ROLES_PAGES.match(path)]
            live.ids[key] = pages
        finally:
            context.close()
    return live.ids[key]


# ---- known findings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Known:
    check: str
    path: re.Pattern
    text: str
    owner: str

    def matches(self, finding: Finding) -> bool:
        return (self.check == finding.check and bool(self.path.search(finding.path))
                and self.text.lower() in finding.text.lower())


def known_findings() -> list[Known]:
    """The table rows of KNOWN_PAGE_FINDINGS.md: | check | page (regex) | text (part of the finding) | owner |."""
    known = []
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 4 or cells[0] in ("check", "") or set(cells[0]) <= set("-: "):
            continue
        known.append(Known(cells[0], re.compile(cells[1]), cells[2].replace("\\|", "|"), cells[3]))
    return known


# ---- checking one context -----------------------------------------------------------------------------

def codes() -> list[str]:
    from matcher.web.labels import LABELS

    return sorted({code for group in LABELS.values() for code in group if re.fullmatch(r"[a-z][a-z_-]+", code)})


def check_page(page, *, role: str, device: str, lang: str, path: str, axe: bool) -> list[Finding]:
    options = {"lang": lang, "device": device, "codes": codes(), "allow": ALLOW, "dates": DATES[lang],
               "datesZh": DATES["zh"], "headerMax": HEADER_MAX}
    found = [Finding(item["check"], role, device, lang, path, item["text"], item["where"])
             for item in page.evaluate(CHECK_JS, options)]
    if axe:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate("""async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 80))}));
        }""")
        for violation in result:
            found.append(Finding("axe", role, device, lang, path,
                                 f"{violation['impact']} {violation['id']}: {violation['help']} — "
                                 + " | ".join(violation["nodes"])))
    return found


def check_menu(page, *, role: str, device: str, lang: str, path: str) -> list[Finding]:
    """On a phone the navigation hides behind one menu button, which opens it."""
    toggle = page.locator("[data-nav-toggle]")
    links = page.locator("#main-nav a")
    where = dict(role=role, device=device, lang=lang, path=path)
    if device != "phone":
        return []
    if not toggle.count() or not toggle.first.is_visible():
        return [Finding("nav", text="no visible menu button ([data-nav-toggle]) on the phone", **where)]
    if links.count() and links.first.is_visible():
        return [Finding("nav", text="the menu is open before its button is pressed", **where)]
    toggle.first.click()
    shown = links.count() and all(links.nth(i).is_visible() for i in range(links.count()))
    expanded = toggle.first.get_attribute("aria-expanded")
    width = page.evaluate("document.documentElement.scrollWidth")
    toggle.first.click()
    if not shown or expanded != "true":
        return [Finding("nav", text=f"the menu button does not open the menu (aria-expanded={expanded})", **where)]
    if width > DEVICES[device]["viewport"]["width"]:
        return [Finding("nav", text=f"the open menu is wider than the phone ({width}px)", **where)]
    return []


def open_context(browser, live, device: str, lang: str):
    cookie_value, _html_lang, accept = LANGUAGES[lang]
    context = browser.new_context(locale=accept, **DEVICES[device])
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "lang", "value": cookie_value, "url": live.url}])
    return context


def gallery_dir(name: str) -> Path:
    directory = GALLERY / name
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*"):
        old.unlink()
    return directory


def slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


def run_checks(browser, live, *, role: str | None, device: str, lang: str, paths: list[tuple[str, str]]) -> None:
    """Open every page in one context (logged in as the role), check it, photograph it; then report."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium")
    started = time.monotonic()
    name = f"{role or 'public'}-{device}-{lang}"
    directory = gallery_dir(name)
    context = open_context(browser, live, device, lang)
    findings: list[Finding] = []
    shots = []
    phases: dict[str, float] = {}
    try:
        if role:
            login(context, live, ROLES[role])
        page = context.new_page()
        for index, (endpoint, path) in enumerate(paths):
            mark = time.monotonic()
            response = page.goto(live(path), wait_until="load")
            status = response.status if response else 0
            if status >= 400 and endpoint != "error":
                findings.append(Finding("status", role or "-", device, lang, path, f"answered {status}"))
            mark = clocked(phases, "open", mark)
            findings += check_page(page, role=role or "-", device=device, lang=lang, path=path,
                                   axe=axe_on(role, device, lang))
            if index == 0 and role:
                findings += check_menu(page, role=role, device=device, lang=lang, path=path)
            mark = clocked(phases, "check", mark)
            file = f"{index:02d}-{slug(path)}.jpeg"
            page.screenshot(path=str(directory / file), full_page=True, type="jpeg", quality=60)
            clocked(phases, "photograph", mark)
            shots.append({"path": path, "endpoint": endpoint, "file": f"{name}/{file}",
                          "findings": [f.line() for f in findings if f.path == path]})
    finally:
        context.close()
    known = known_findings()
    new = [f for f in findings if not any(k.matches(f) for k in known)]
    old = [f for f in findings if f not in new]
    matched = sorted({index for index, k in enumerate(known) for f in old if k.matches(f)})
    seconds = time.monotonic() - started
    write_gallery_part(name, shots, new, old, seconds, phases, matched)
    if old:
        print(f"\n{name}: {len(old)} known finding(s) (KNOWN_PAGE_FINDINGS.md):\n  "
              + "\n  ".join(f.line() for f in old))
    print(f"\n{name}: {len(paths)} pages checked in {seconds:.1f} s ("
          + ", ".join(f"{phase} {spent:.1f} s" for phase, spent in phases.items()) + ")")
    assert not new, (f"{len(new)} finding(s) on the pages of {name} (gallery: {GALLERY / 'index.html'}):\n  "
                     + "\n  ".join(f.line() for f in new))


# ---- the gallery ----------------------------------------------------------------------------------------

def clocked(phases: dict[str, float], phase: str, since: float) -> float:
    now = time.monotonic()
    phases[phase] = phases.get(phase, 0.0) + now - since
    return now


def write_gallery_part(name: str, shots: list, new: list[Finding], old: list[Finding], seconds: float,
                       phases: dict[str, float], matched: list[int]) -> None:
    part = {"name": name, "shots": shots, "new": [f.line() for f in new], "known": [f.line() for f in old],
            "seconds": round(seconds, 1), "phases": {phase: round(spent, 1) for phase, spent in phases.items()},
            "known_rows_matched": matched}
    (GALLERY / f"{name}.json").write_text(json.dumps(part, ensure_ascii=False, indent=1), encoding="utf-8")
    write_gallery_index()


def write_gallery_index() -> None:
    """index.html from every part written so far (each test writes its own; the last one lists them all)."""
    parts = [json.loads(file.read_text(encoding="utf-8")) for file in sorted(GALLERY.glob("*.json"))]
    out = ["<!doctype html><html lang='en'><meta charset='utf-8'><title>Xintu page gallery</title>",
           "<style>body{font-family:sans-serif;margin:1rem} .shots{display:flex;flex-wrap:wrap;gap:1rem}"
           " figure{margin:0;width:260px} img{width:260px;max-height:420px;object-fit:cover;object-position:top;"
           "border:1px solid #ccc} figcaption{font-size:12px;word-break:break-all} .bad{color:#b3261e}"
           " .known{color:#8a6d00} pre{white-space:pre-wrap;font-size:12px}</style>",
           "<h1>Xintu: every page of every role</h1><ul>"]
    for part in parts:
        out.append(f"<li><a href='#{part['name']}'>{part['name']}</a>: {len(part['shots'])} pages, "
                   f"{len(part['new'])} new and {len(part['known'])} known findings, {part['seconds']} s ("
                   + ", ".join(f"{phase} {spent} s" for phase, spent in part.get("phases", {}).items()) + ")</li>")
    out.append("</ul>")
    # Rows of KNOWN_PAGE_FINDINGS.md that no page showed in this run (all of it, not one test): fixed? delete them.
    matched = {index for part in parts for index in part.get("known_rows_matched", [])}
    stale = [k for index, k in enumerate(known_findings()) if index not in matched]
    if stale and len(parts) >= sum(len(role_matrix(role)) for role in ROLES):
        out.append("<p class='known'>Rows of KNOWN_PAGE_FINDINGS.md no page showed (fixed? delete them):</p><pre>"
                   + html.escape("\n".join(f"{k.check} | {k.path.pattern} | {k.text} | {k.owner}" for k in stale))
                   + "</pre>")
    for part in parts:
        out.append(f"<h2 id='{part['name']}'>{part['name']}</h2>")
        if part["new"]:
            out.append("<pre class='bad'>" + html.escape("\n".join(part["new"])) + "</pre>")
        if part["known"]:
            out.append("<details><summary class='known'>known findings</summary><pre class='known'>"
                       + html.escape("\n".join(part["known"])) + "</pre></details>")
        out.append("<div class='shots'>")
        for shot in part["shots"]:
            marks = "".join(f"<div class='bad'>{html.escape(line.split(': ', 1)[-1])}</div>"
                            for line in shot["findings"][:3])
            out.append(f"<figure><a href='{shot['file']}'><img loading='lazy' src='{shot['file']}' "
                       f"alt='{html.escape(shot['path'])}'></a><figcaption>{html.escape(shot['path'])}"
                       f"{marks}</figcaption></figure>")
        out.append("</div>")
    tmp = GALLERY / f"index.html.{os.getpid()}"
    tmp.write_text("\n".join(out), encoding="utf-8")
    tmp.replace(GALLERY / "index.html")
