"""Locust journeys for bench/bench_load.py (not a test): caseworkers and employers on the web pages.

Each simulated person logs in once through the login form (with its CSRF token), then walks their journey
over and over with a think time between pages:

* caseworker: candidate list -> a candidate's page -> its recommendations (and the training seats' paths the page
  asks for once shown) -> referral board -> follow-up;
* employer: home (the base's slots) -> a slot -> referrals -> a referral -> notifications.

Accounts come from the environment (bench_load.py reads them from the database): XINTU_BENCH_CASEWORKERS and
XINTU_BENCH_EMPLOYERS (comma-separated usernames), XINTU_BENCH_PASSWORD. XINTU_BENCH_WAIT="5,15" is the think
time in seconds. Every request's time is kept per journey and written to XINTU_BENCH_SAMPLES (JSON) at the end.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import threading
import time

from locust import HttpUser, SequentialTaskSet, between, events, task

PASSWORD = os.environ.get("XINTU_BENCH_PASSWORD", "xintu-demo-2026")
CASEWORKERS = [u for u in os.environ.get("XINTU_BENCH_CASEWORKERS", "cw330782001").split(",") if u]
EMPLOYERS = [u for u in os.environ.get("XINTU_BENCH_EMPLOYERS", "employer").split(",") if u]
WAIT = tuple(float(x) for x in os.environ.get("XINTU_BENCH_WAIT", "5,15").split(","))
SAMPLES_PATH = os.environ.get("XINTU_BENCH_SAMPLES")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CANDIDATE = re.compile(r'href="/caseworker/candidates/(\d+)"')
SLOT = re.compile(r'href="/employer/slots/(\d+)"')
REFERRAL = re.compile(r'href="/employer/referrals/(\d+)"')
PATHS = re.compile(r'hx-get="([^"]+)" hx-trigger="load"[^>]*data-testid="paths-loader"')

_next_caseworker = itertools.cycle(CASEWORKERS)
_next_employer = itertools.cycle(EMPLOYERS)
_lock = threading.Lock()
samples: dict[str, list] = {}  # journey -> [(name, ms, ok)]


spawned: dict[str, float] = {}  # when the last user was started (monotonic seconds, as the samples)


@events.request.add_listener
def _keep(request_type, name, response_time, response_length, exception, context, **_kwargs):
    journey = (context or {}).get("journey", "other")
    started = time.monotonic() - response_time / 1000
    with _lock:
        samples.setdefault(journey, []).append((name, round(response_time, 2), exception is None, round(started, 3)))


@events.spawning_complete.add_listener
def _all_spawned(user_count, **_kwargs):
    spawned.setdefault("at", time.monotonic())


@events.quitting.add_listener
def _write(environment, **_kwargs):
    if SAMPLES_PATH:
        with open(SAMPLES_PATH, "w", encoding="utf-8") as out:
            json.dump({"spawned_at": spawned.get("at"), "samples": samples}, out)


def log_in(user, username: str) -> bool:
    page = user.client.get("/login", name="login page")
    found = CSRF.search(page.text or "")
    if not found:
        return False
    with user.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": found.group(1)},
                          name="login", allow_redirects=False, catch_response=True) as answer:
        if answer.status_code != 302:
            answer.failure(f"login {answer.status_code}")
            return False
        answer.success()
    return True


class Page:
    """GET a page; fail on anything but 200 (a redirect to /login means the session was lost)."""

    @staticmethod
    def get(user, url: str, name: str, headers: dict | None = None):
        with user.client.get(url, name=name, allow_redirects=False, catch_response=True,
                             headers=headers) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
            return answer


class CaseworkerJourney(SequentialTaskSet):
    candidate_ids: list[str] = []
    current: str | None = None

    @task
    def candidate_list(self):
        page = Page.get(self.user, "/caseworker/candidates?status=active", "cw: candidate list")
        self.candidate_ids = CANDIDATE.findall(page.text or "") or self.candidate_ids

    @task
    def candidate(self):
        self.current = random.choice(self.candidate_ids) if self.candidate_ids else None
        if self.current:
            Page.get(self.user, f"/caseworker/candidates/{self.current}", "cw: candidate")

    @task
    def recommendations(self):
        if self.current:
            page = Page.get(self.user, f"/caseworker/candidates/{self.current}/recommendations",
                            "cw: recommendations")
            # The training seats' paths, which the page asks for once it is shown (htmx, no think time between).
            paths = PATHS.search(page.text or "")
            if paths:
                Page.get(self.user, html.unescape(paths.group(1)), "cw: recommendations' paths",
                         headers={"HX-Request": "true"})

    @task
    def referrals(self):
        Page.get(self.user, "/caseworker/referrals", "cw: referral board")

    @task
    def follow_up(self):
        Page.get(self.user, "/caseworker/follow-up", "cw: follow-up")


class EmployerJourney(SequentialTaskSet):
    slot_ids: list[str] = []
    referral_ids: list[str] = []

    @task
    def home(self):
        page = Page.get(self.user, "/employer", "emp: home (slots)")
        self.slot_ids = SLOT.findall(page.text or "") or self.slot_ids

    @task
    def slot(self):
        if self.slot_ids:
            Page.get(self.user, f"/employer/slots/{random.choice(self.slot_ids)}", "emp: slot")

    @task
    def referrals(self):
        page = Page.get(self.user, "/employer/referrals?show=all", "emp: referrals")
        self.referral_ids = REFERRAL.findall(page.text or "") or self.referral_ids

    @task
    def referral(self):
        if self.referral_ids:
            Page.get(self.user, f"/employer/referrals/{random.choice(self.referral_ids)}", "emp: referral")

    @task
    def notifications(self):
        Page.get(self.user, "/notifications", "emp: notifications")


class Caseworker(HttpUser):
    weight = 3
    wait_time = between(*WAIT)
    tasks = [CaseworkerJourney]

    def context(self):
        return {"journey": "caseworker"}

    def on_start(self):
        with _lock:
            username = next(_next_caseworker)
        log_in(self, username)


class Employer(HttpUser):
    weight = 1
    wait_time = between(*WAIT)
    tasks = [EmployerJourney]

    def context(self):
        return {"journey": "employer"}

    def on_start(self):
        with _lock:
            username = next(_next_employer)
        log_in(self, username)
