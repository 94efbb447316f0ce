"""The app's API through gradio_client, the way a script calls it, and a bounded load test: 20 users at
once on loopback (extractive engine), every one answered, none failing; p50/p95 latency printed."""
from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.slow
USERS = 20
QUESTIONS = (
    "Which Hillingdon team steps in with intensive support when a family's problems escalate?",
    "What grade did Wandsworth get for adoption performance?",
    "How are care leavers supported in Windsor and Maidenhead?",
    "Compare adoption in Wandsworth and Windsor and Maidenhead",
    "What did inspectors say about the LSCB in Hammersmith and Fulham?",
)




def test_a_script_can_ask_chat_and_compare_through_the_api(app_url):
    from gradio_client import Client
    client = Client(app_url, verbose=False)
    assert {"/ask", "/chat", "/compare"} <= set(client.view_api(print_info=False, return_format="dict")
                                                ["named_endpoints"])
    answer = client.predict("What grade did Wandsworth get for adoption performance?", api_name="/ask")
    assert "requires improvement" in answer["answer"] and answer["citations"][0]["authority"] == "Wandsworth"
    assert answer["claims"]["verified"] == answer["claims"]["total"] >= 1

    filtered = client.predict("How are care leavers supported?", ["Hillingdon"], None, api_name="/ask")
    assert {c["authority"] for c in filtered["citations"]} == {"Hillingdon"}

    question, messages, sources, status = client.predict("How are care leavers supported?", [], "", "",
                                                         api_name="/chat")
    assert question == "" and messages[-1]["role"] == "assistant" and "source-card" in sources

    table, cards, status, *_ = client.predict(["Wandsworth", "Hillingdon"], "care leavers", api_name="/compare")
    assert "<th>Wandsworth</th>" in table and "<th>Hillingdon</th>" in table

    with pytest.raises(Exception, match="Ask a question"):      # a RagError reaches the script as its message
        client.predict("   ", api_name="/ask")


def test_twenty_simultaneous_users_all_get_answers(app_url):
    from gradio_client import Client

    def one_user(n: int) -> tuple[float, dict]:
        client = Client(app_url, verbose=False)            # each user its own session
        started = time.perf_counter()
        answer = client.predict(QUESTIONS[n % len(QUESTIONS)], api_name="/ask")
        return time.perf_counter() - started, answer

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        results = list(pool.map(one_user, range(USERS)))      # raises if any request failed
    wall = time.perf_counter() - started
    latencies = sorted(seconds for seconds, _ in results)
    assert len(results) == USERS
    assert all(answer["answer"] and answer["citations"] for _, answer in results)
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    print(f"\nload: {USERS} users, p50 {p50:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s, wall {wall:.2f} s")
    assert p95 < 60
