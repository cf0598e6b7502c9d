// SPDX-License-Identifier: MIT
// The in-order execution queue of core/work_queue.h.
#include "core/work_queue.h"

#include <algorithm>
#include <exception>
#include <new>
#include <utility>

#include "core/spin_wait.h"
#include "core/thread_name.h"
#include "core/thread_priority.h"

namespace dcn {
namespace {

std::shared_ptr<const TaskError> make_error(const char* op, ErrorKind kind, bool oom, const char* what) {
  auto e = std::make_shared<TaskError>();
  e->op = op;
  e->kind = kind;
  e->out_of_memory = oom;
  e->message = std::string(op) + " failed in queued CPU work: " + what;
  return e;
}

}  // namespace

WorkQueue::WorkQueue(std::function<void()> notify) : notify_(std::move(notify)) {}

WorkQueue::~WorkQueue() { shutdown(); }

uint64_t WorkQueue::submit(Task task) {
  uint64_t seq;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      // After shutdown nothing runs: the completion comes back as a dropped task.
      seq = submitted_.fetch_add(1, std::memory_order_acq_rel) + 1;
      finished_.push_back({std::move(task.completion),
                           make_error(task.op, ErrorKind::kInternal, false, "the environment is shutting down")});
      completed_.store(seq, std::memory_order_release);
      return seq;
    }
    if (!executor_.joinable()) executor_ = std::thread([this] { loop(); });
    pending_.push_back(std::move(task));
    seq = submitted_.fetch_add(1, std::memory_order_acq_rel) + 1;
    wake = executor_sleeping_.load(std::memory_order_relaxed);
  }
  if (wake) work_cv_.notify_one();
  return seq;
}

uint64_t WorkQueue::run_if_idle(Task& task) {
  uint64_t seq;
  std::shared_ptr<const TaskError> error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !pending_.empty() ||
        completed_.load(std::memory_order_relaxed) != submitted_.load(std::memory_order_relaxed)) {
      return 0;
    }
    // The executor is idle and only this thread submits: nothing else runs until this task is done.
    seq = submitted_.fetch_add(1, std::memory_order_acq_rel) + 1;
    error = poisoned_input(task);
  }
  if (!error) error = run(task);
  task.fn = nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (error) {
    for (uint64_t id : task.writes) {
      if (id == 0) continue;
      poison_[id] = error;
      new_poison_.emplace_back(id, error);
    }
  }
  if (task.completion) finished_.push_back({std::move(task.completion), error});
  completed_.store(seq, std::memory_order_release);
  return seq;
}

uint64_t WorkQueue::wait(uint64_t seq) {
  seq = std::min(seq, submitted());  // a number never handed out would never complete
  if (completed() >= seq) return completed();
  // One poll budget per waiting thread (NOTE [ Adaptive spin ]).
  static thread_local detail::SpinBudget spin;
  if (spin.spin([&] { return completed() >= seq; })) return completed();
  std::unique_lock<std::mutex> lock(mu_);
  ++waiters_;
  done_cv_.wait(lock, [&] { return completed_.load(std::memory_order_relaxed) >= seq; });
  --waiters_;
  spin.slept();
  return completed_.load(std::memory_order_relaxed);
}

std::shared_ptr<const TaskError> WorkQueue::poison_of(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = poison_.find(id);
  return it == poison_.end() ? nullptr : it->second;
}

std::vector<std::pair<uint64_t, std::shared_ptr<const TaskError>>> WorkQueue::take_new_poison() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(new_poison_, {});
}

void WorkQueue::forget(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  poison_.erase(id);
}

size_t WorkQueue::poisoned_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return poison_.size();
}

std::vector<WorkQueue::Finished> WorkQueue::take_finished() {
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = false;
  return std::exchange(finished_, {});
}

void WorkQueue::shutdown() {
  std::thread executor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !executor_.joinable()) return;
    stop_ = true;
    // Drop what has not started; the running task (if any) finishes.
    while (!pending_.empty()) {
      Task& t = pending_.front();
      finished_.push_back({std::move(t.completion), make_error(t.op, ErrorKind::kInternal, false,
                                                               "dropped because the environment is shutting down")});
      pending_.pop_front();
    }
    executor = std::move(executor_);
  }
  work_cv_.notify_all();
  if (executor.joinable()) executor.join();
  std::lock_guard<std::mutex> lock(mu_);
  completed_.store(submitted_.load(std::memory_order_relaxed), std::memory_order_release);
  done_cv_.notify_all();
}

std::shared_ptr<const TaskError> WorkQueue::poisoned_input(const Task& task) const {
  if (poison_.empty()) return nullptr;
  for (uint64_t id : task.reads) {
    if (id == 0) continue;
    auto it = poison_.find(id);
    if (it != poison_.end()) return it->second;
  }
  for (uint64_t id : task.writes) {
    if (id == 0) continue;
    auto it = poison_.find(id);
    if (it != poison_.end()) return it->second;
  }
  return nullptr;
}

std::shared_ptr<const TaskError> WorkQueue::run(Task& task) {
  try {
    task.fn();
    return nullptr;
  } catch (const Error& e) {
    return make_error(task.op, e.kind(), false, e.what());
  } catch (const std::bad_alloc&) {
    return make_error(task.op, ErrorKind::kInternal, true, "out of memory in native code");
  } catch (const std::exception& e) {
    return make_error(task.op, ErrorKind::kInternal, false, e.what());
  } catch (...) {
    return make_error(task.op, ErrorKind::kInternal, false, "unknown exception");
  }
}

void WorkQueue::loop() {
  set_current_thread_name("tvdcn-queue");
  lower_current_thread_priority();
  for (;;) {
    // Poll for the next task before sleeping (NOTE [ Adaptive spin ] in core/spin_wait.h).
    const bool polled = executor_spin_.spin(
        [&] { return completed_.load(std::memory_order_acquire) < submitted_.load(std::memory_order_acquire); });
    Task task;
    std::shared_ptr<const TaskError> error;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!stop_ && pending_.empty()) {
        executor_sleeping_.store(true, std::memory_order_relaxed);
        work_cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
        executor_sleeping_.store(false, std::memory_order_relaxed);
      }
      if (!polled) executor_spin_.slept();
      if (stop_) return;
      task = std::move(pending_.front());
      pending_.pop_front();
      error = poisoned_input(task);
    }
    if (!error) error = run(task);
    task.fn = nullptr;  // drop the captures on this thread, before the completion goes back
    bool call_notify = false;
    bool wake_waiters = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (error) {
        for (uint64_t id : task.writes) {
          if (id == 0) continue;
          poison_[id] = error;
          new_poison_.emplace_back(id, error);
        }
      }
      finished_.push_back({std::move(task.completion), error});
      completed_.fetch_add(1, std::memory_order_acq_rel);
      wake_waiters = waiters_ > 0;
      if (!notified_ && (task.notify || pending_.empty())) {
        notified_ = true;
        call_notify = true;
      }
    }
    // Outside the mutex: a waiter woken inside it would preempt a low-priority executor there and then block on
    // the mutex until the executor gets a CPU again (NOTE [ Wake relay ] in core/wake_relay.h).
    if (wake_waiters) done_cv_.notify_all();
    if (call_notify && notify_) notify_();
  }
}

}  // namespace dcn
