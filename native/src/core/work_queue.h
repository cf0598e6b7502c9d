// SPDX-License-Identifier: MIT
// WorkQueue: an in-order execution queue, the CPU's "stream". One executor thread runs the submitted tasks
// one after another in submission order; each task may use the thread pool (core/parallel.h) as any caller
// does (the executor is the region's thread 0), so the pool's thread-count rules hold unchanged.
//
// Tasks name the storages they read and write by id (never reused; 0 = untracked). A task that throws
// poisons the storages it writes with its error; a later task that reads or writes a poisoned storage does
// not run and poisons its own outputs with the same error, so nothing runs on poisoned data. The owner
// learns of poisoned ids through take_new_poison() and drops an entry with forget() once the storage is
// gone. Each task carries an opaque Completion (what keeps its memory alive, a promise to settle) that the
// owner takes back with take_finished(), on its own thread, after the task ran or was dropped.
//
// Plain C++ (no Node-API): napi/cpu_queue.h ties one WorkQueue to each JS environment.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/spin_wait.h"

namespace dcn {

// The error of a task that threw (or of the task that poisoned its inputs).
struct TaskError {
  std::string op;       // the op that failed
  ErrorKind kind;       // of a dcn::Error; kInternal for other exceptions
  bool out_of_memory;   // std::bad_alloc
  std::string message;  // "<op> failed in queued CPU work: <what>"
};

// What the owner attaches to a task and gets back once it ran or was dropped.
struct TaskCompletion {
  virtual ~TaskCompletion() = default;
};

class WorkQueue {
 public:
  // `notify` is called on the executor thread when a task marked `notify` finished, and when the queue
  // went idle with finished tasks not yet taken; at most one call is outstanding until the owner calls
  // take_finished(). It must not block.
  explicit WorkQueue(std::function<void()> notify);
  // Stops the executor (shutdown()) if the owner did not.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  struct Task {
    const char* op = "";           // static string, for errors
    std::vector<uint64_t> reads;   // storage ids read
    std::vector<uint64_t> writes;  // storage ids written (in-place targets too)
    std::function<void()> fn;      // the work
    std::unique_ptr<TaskCompletion> completion;
    bool notify = false;  // call `notify` when this task finished
  };

  // Queues `task`; returns its sequence number (1, 2, ...). Starts the executor on first use.
  uint64_t submit(Task task);

  // When the queue is idle (every task submitted ran), runs `task` here, on the calling thread, with the
  // bookkeeping of a queued task (a sequence number, poison in and out; its completion comes back from
  // take_finished()) and returns its sequence number; otherwise returns 0 and leaves `task` untouched.
  // Only the thread that submits may call it (it is then not submitting anything else).
  uint64_t run_if_idle(Task& task);

  // Blocks until every task with sequence number <= seq ran (or was dropped); returns completed().
  uint64_t wait(uint64_t seq);
  // Blocks until every task submitted so far ran.
  uint64_t drain() { return wait(submitted()); }

  uint64_t submitted() const { return submitted_.load(std::memory_order_acquire); }
  uint64_t completed() const { return completed_.load(std::memory_order_acquire); }

  // The error poisoning storage `id`, or null.
  std::shared_ptr<const TaskError> poison_of(uint64_t id) const;
  // Storages poisoned since the last call, with their errors (every task <= completed() accounted for).
  std::vector<std::pair<uint64_t, std::shared_ptr<const TaskError>>> take_new_poison();
  // Forgets that `id` is poisoned (the storage is gone).
  void forget(uint64_t id);
  // How many storages are poisoned.
  size_t poisoned_count() const;
  // How long the executor polls for the next task before it sleeps, now (NOTE [ Adaptive spin ]; tests).
  int64_t executor_spin_ns() const { return executor_spin_.budget().count(); }

  struct Finished {
    std::unique_ptr<TaskCompletion> completion;
    std::shared_ptr<const TaskError> error;  // null when the task ran to completion
  };
  // The completions of the tasks that finished since the last call; re-arms `notify`.
  std::vector<Finished> take_finished();

  // Drops the tasks not started (their completions come back from take_finished() with `error` set),
  // waits for the running one and joins the executor. Idempotent; submit() after it runs nothing.
  void shutdown();

 private:
  void loop();
  std::shared_ptr<const TaskError> run(Task& task);
  std::shared_ptr<const TaskError> poisoned_input(const Task& task) const;  // called with mu_ held

  std::function<void()> notify_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // executor waits for tasks
  std::condition_variable done_cv_;  // waiters wait for completions
  std::deque<Task> pending_;         // FIFO, not yet started
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<bool> executor_sleeping_{false};
  detail::SpinBudget executor_spin_;  // the executor's poll for the next task
  int waiters_ = 0;
  bool stop_ = false;
  bool notified_ = false;  // a notify call is outstanding
  std::thread executor_;
  std::unordered_map<uint64_t, std::shared_ptr<const TaskError>> poison_;
  std::vector<std::pair<uint64_t, std::shared_ptr<const TaskError>>> new_poison_;
  std::vector<Finished> finished_;
};

}  // namespace dcn
