#include "raft/progress.h"

#include <doctest/doctest.h>

using namespace raft;

TEST_CASE("progress: a probe sends one append, then pauses until an answer") {
  Progress progress(/*next=*/6, /*inflight_max=*/4, /*learner=*/false);
  CHECK_FALSE(progress.paused());
  progress.sent_append(5, true);
  CHECK(progress.paused());
  CHECK(progress.next() == 6);  // probes do not advance next optimistically
  progress.heartbeat_answered();
  CHECK_FALSE(progress.paused());
}

TEST_CASE("progress: a rejected probe backs off to the hint but never below match + 1") {
  Progress progress(10, 4, false);
  progress.sent_append(9, true);
  CHECK_FALSE(progress.maybe_decrease_to(/*rejected=*/5, /*hint=*/2));  // not the last probe
  CHECK(progress.maybe_decrease_to(9, 3));
  CHECK(progress.next() == 4);
  CHECK_FALSE(progress.paused());
  progress.maybe_update(2);
  progress.become_probe();
  CHECK(progress.next() == 3);
}

TEST_CASE("progress: replicate streams up to the in-flight window and frees on acks") {
  Progress progress(1, 2, false);
  progress.maybe_update(3);
  progress.become_replicate();
  CHECK(progress.next() == 4);
  progress.sent_append(5, true);
  progress.sent_append(8, true);
  CHECK(progress.next() == 9);
  CHECK(progress.paused());
  CHECK(progress.maybe_update(5));
  CHECK(progress.inflight_count() == 1);
  CHECK_FALSE(progress.paused());
  CHECK_FALSE(progress.maybe_update(4));  // stale ack
  CHECK(progress.match() == 5);
  // A rejection above match sends replication back to match + 1.
  CHECK(progress.maybe_decrease_to(8, 0));
  CHECK(progress.next() == 6);
}

TEST_CASE("progress: a full window frees one slot on a heartbeat answer") {
  Progress progress(1, 1, false);
  progress.become_replicate();
  progress.sent_append(3, true);
  CHECK(progress.paused());
  progress.heartbeat_answered();
  CHECK_FALSE(progress.paused());
}

TEST_CASE("progress: snapshot state pauses until acknowledged, then probes after it") {
  Progress progress(1, 4, false);
  progress.become_snapshot(20);
  CHECK(progress.paused());
  progress.maybe_update(20);
  CHECK(progress.match() == 20);
  progress.become_probe();
  CHECK(progress.next() == 21);
  CHECK(progress.state() == ProgressState::kProbe);
}
