"""Load test of one environment, written once by tfgen; yours to change. tfgen never overwrites it.

    python3 -m venv .venv && .venv/bin/pip install -r load_test/requirements.txt
    .venv/bin/locust -f load_test/locustfile.py --headless --env prod --host https://<your domain>

It reads the environment's agents from generated/<env>/smoke.py, which `tfgen render` writes: the path
the load balancer routes to each agent, whom the entry agent (the one with the model call) calls, and
each agent's max_count. Then it:

* sends the plan's paths in a fixed mix: 4 in 5 requests enter at the entry agent, naming one of the
  agents it calls (or itself) to answer; 1 in 5 go straight to another agent's own path;
* ramps from 1 user to the entry agent's max_count x --users-per-task users over --ramp-seconds, holds
  for --hold-seconds, and stops (or at --max-requests requests, whichever comes first);
* prints a short report: requests, error rate, p50/p95/p99 latency, and when each agent's ECS service
  raised its desired count (autoscaling firing), with the number of users at that moment. The desired
  counts are read every --watch-seconds with the AWS CLI (`aws ecs describe-services`), the cluster and
  service names with `terraform output` in generated/<env>: run it where both work, or the report says
  why autoscaling was not observed.

Locust exits 1 when any request failed. The requests are the reference agents' (POST with {"message",
"agent"}): replace request_body() with your agents' real requests, keeping the mix. --agent-urls sends
one agent's requests elsewhere (NAME=URL,NAME=URL), e.g. to agents run locally.
"""

import importlib.util
import json
import math
import os
import random
import subprocess
import time

import gevent
from locust import HttpUser, LoadTestShape, between, events, task

HERE = os.path.dirname(os.path.abspath(__file__))

MESSAGES = [
    "Where is my order 1042?",
    "I would like to change the delivery address of my last order.",
    "Can you recommend a laptop bag like the one I bought?",
    "Please update my communication preferences.",
    "The app logs me out every few minutes.",
]


@events.init_command_line_parser.add_listener
def _options(parser):
    group = parser.add_argument_group("tfgen load test")
    group.add_argument("--env", default="dev", help="the environment: reads generated/<env>/smoke.py")
    group.add_argument("--users-per-task", type=int, default=10,
                       help="users per task of the entry agent at its max_count (default 10)")
    group.add_argument("--ramp-seconds", type=float, default=300, help="ramp duration (default 300)")
    group.add_argument("--hold-seconds", type=float, default=300, help="time at the peak (default 300)")
    group.add_argument("--max-requests", type=int, default=100000, help="stop after this many (default 100000)")
    group.add_argument("--watch-seconds", type=float, default=15,
                       help="how often ECS desired counts are read (default 15)")
    group.add_argument("--agent-urls", default="", help="NAME=URL,... : one agent's requests go to URL")


def environment_agents(env):
    """The environment's agents, as `tfgen render` wrote them into its tree's smoke check."""
    path = os.path.join(HERE, "..", "generated", env, "smoke.py")
    spec = importlib.util.spec_from_file_location("smoke_" + env.replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines constants and functions only
    return module


def prefix(agent):
    """The path the ALB routes to the agent: its smoke path without `smoke` (`/order/smoke` -> `/order/`)."""
    return agent["path"][: -len("smoke")]


def request_body(target):
    """One customer request, answered by `target`. The reference agents' shape: replace it with yours."""
    return {"message": random.choice(MESSAGES), "agent": target}


class Plan:
    """What the run needs from the environment, read once."""

    def __init__(self, options):
        tree = environment_agents(options.env)
        self.env, self.region = tree.ENVIRONMENT, tree.REGION
        self.agents = [agent for agent in tree.AGENTS if agent["path"] is not None]
        self.entry = next(agent for agent in self.agents if agent["model"])
        self.others = [agent for agent in self.agents if agent is not self.entry]
        self.peak = self.entry["max_count"] * options.users_per_task
        self.urls = dict(item.split("=", 1) for item in options.agent_urls.split(",") if item)

    def url(self, agent, host):
        return self.urls.get(agent["name"], host or "").rstrip("/") + prefix(agent)


PLAN = None  # set when Locust starts: the environment's plan
RUN = None  # Locust's environment object
REPORT = {"autoscaling": [], "watch": "not started", "started": None}


@events.init.add_listener
def _init(environment, **_):
    global PLAN, RUN
    PLAN, RUN = Plan(environment.parsed_options), environment


class Customer(HttpUser):
    wait_time = between(1, 3)

    @task(4)
    def through_the_entry_agent(self):
        target = random.choice(PLAN.entry["calls"] + [PLAN.entry["name"]])
        self.client.post(PLAN.url(PLAN.entry, self.host), json=request_body(target),
                         name="%s -> %s" % (PLAN.entry["name"], target))

    @task(1)
    def straight_to_an_agent(self):
        if not PLAN.others:
            return self.through_the_entry_agent()
        agent = random.choice(PLAN.others)
        self.client.post(PLAN.url(agent, self.host), json=request_body(agent["name"]), name=agent["name"])


class Ramp(LoadTestShape):
    """1 user to the peak over --ramp-seconds, the peak for --hold-seconds, then stop."""

    def tick(self):
        options = self.runner.environment.parsed_options
        elapsed = self.get_run_time()
        rate = max(1.0, 2 * PLAN.peak / max(options.ramp_seconds, 1))
        if elapsed < options.ramp_seconds:
            return max(1, math.ceil(PLAN.peak * elapsed / options.ramp_seconds)), rate
        if elapsed < options.ramp_seconds + options.hold_seconds:
            return PLAN.peak, rate
        return None


@events.request.add_listener
def _bounded(**_):
    """Stops the run at --max-requests requests."""
    if RUN.runner is not None and RUN.stats.total.num_requests >= RUN.parsed_options.max_requests:
        gevent.spawn(RUN.runner.quit)


def run(command):
    out = subprocess.run(command, cwd=os.path.join(HERE, "..", "generated", PLAN.env), capture_output=True,
                         text=True, check=False, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("`%s` failed: %s" % (" ".join(command[:3]), (out.stderr or out.stdout).strip()[:200]))
    return out.stdout


def watch(environment):
    """Reads each agent's desired count every --watch-seconds; records each rise with the users then."""
    try:
        clusters = json.loads(run(["terraform", "output", "-json", "cluster_names"]))
        services = json.loads(run(["terraform", "output", "-json", "service_names"]))
        last = {}
        REPORT["watch"] = "watched every %g s" % environment.parsed_options.watch_seconds
        while True:
            for agent in PLAN.agents:
                name = agent["name"]
                desired = int(run(["aws", "ecs", "describe-services", "--region", PLAN.region, "--cluster",
                                   clusters[name], "--services", services[name], "--query",
                                   "services[0].desiredCount", "--output", "text"]).strip())
                if name in last and desired > last[name]:
                    REPORT["autoscaling"].append((time.monotonic() - REPORT["started"], name, last[name], desired,
                                                  environment.runner.user_count))
                last[name] = desired
            gevent.sleep(environment.parsed_options.watch_seconds)
    except (RuntimeError, ValueError, KeyError, OSError, subprocess.TimeoutExpired) as err:
        REPORT["watch"] = "not observed: %s" % err


@events.test_start.add_listener
def _start(environment, **_):
    REPORT["started"] = time.monotonic()
    gevent.spawn(watch, environment)


@events.quitting.add_listener
def _report(environment, **_):
    total = environment.stats.total
    seconds = time.monotonic() - (REPORT["started"] or time.monotonic())
    percentile = total.get_response_time_percentile
    print("load test of %s: %d requests in %.0f s, %.1f%% failed (%d)"
          % (PLAN.env, total.num_requests, seconds, 100 * total.fail_ratio, total.num_failures))
    if total.num_requests:
        print("latency: p50 %d ms, p95 %d ms, p99 %d ms" % (percentile(0.5), percentile(0.95), percentile(0.99)))
    print("peak: %d users (%s's max_count %d x %d per task)"
          % (PLAN.peak, PLAN.entry["name"], PLAN.entry["max_count"], environment.parsed_options.users_per_task))
    for at, name, before, after, users in REPORT["autoscaling"]:
        print("autoscaling: %s %d -> %d tasks at %.0f s, with %d users" % (name, before, after, at, users))
    if not REPORT["autoscaling"]:
        print("autoscaling: no desired count rose (%s)" % REPORT["watch"])
