// Stress for threads and their synchronization: several threads doing a
// fixed, deterministic amount of work through pthread mutexes, condition
// variables, rwlocks, barriers, semaphores and queued real-time signals,
// then checking exact totals. Contention makes these take the futex(2) slow
// paths (FUTEX_WAIT/WAKE, requeue for condition variables) many times.
//
// Sizes are chosen to take well under a second each natively; every wait
// has a deadline, so a lost wake-up fails the case instead of hanging.
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sentry::testing {
namespace {

constexpr int kThreads = 8;
constexpr long kDeadlineMs = 30000;

struct timespec RealtimeDeadline(long ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

// Runs fn(0) .. fn(n-1) on n threads and joins them all, each within
// kDeadlineMs (after that the binary aborts rather than hang).
void RunThreads(int n, const std::function<void(int)>& fn) {
  struct Arg {
    const std::function<void(int)>* fn;
    int i;
  };
  std::vector<pthread_t> threads(n);
  std::vector<Arg> args(n);
  int created = 0;
  for (int i = 0; i < n; i++) {
    args[i] = {&fn, i};
    int err = pthread_create(
        &threads[i], nullptr,
        [](void* p) -> void* {
          auto* a = static_cast<Arg*>(p);
          (*a->fn)(a->i);
          return nullptr;
        },
        &args[i]);
    if (err != 0) {
      ADD_FAILURE() << "pthread_create: " << strerror(err);
      break;
    }
    created++;
  }
  for (int i = 0; i < created; i++) {
    struct timespec deadline = RealtimeDeadline(kDeadlineMs);
    int err = pthread_timedjoin_np(threads[i], nullptr, &deadline);
    if (err != 0) {
      fprintf(stderr, "thread %d not joined: %s; aborting\n", i, strerror(err));
      fflush(stderr);
      abort();
    }
  }
}

// A small deterministic generator, one per thread.
struct Lcg {
  uint64_t state;
  uint32_t Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  }
};

TEST(PthreadStressTest, ManyMutexesExactCounters) {
  constexpr int kMutexes = 16, kOps = 100000;
  std::vector<pthread_mutex_t> mu(kMutexes);
  for (auto& m : mu) pthread_mutex_init(&m, nullptr);
  std::vector<long> counter(kMutexes, 0);
  // expected[t][i]: how often thread t incremented counter i.
  std::vector<std::vector<long>> expected(kThreads,
                                          std::vector<long>(kMutexes, 0));
  RunThreads(kThreads, [&](int t) {
    Lcg rng{static_cast<uint64_t>(t) + 1};
    for (int op = 0; op < kOps; op++) {
      int i = rng.Next() % kMutexes;
      pthread_mutex_lock(&mu[i]);
      counter[i]++;
      pthread_mutex_unlock(&mu[i]);
      expected[t][i]++;
    }
  });
  long total = 0;
  for (int i = 0; i < kMutexes; i++) {
    long want = 0;
    for (int t = 0; t < kThreads; t++) want += expected[t][i];
    EXPECT_EQ(counter[i], want) << "counter " << i;
    total += counter[i];
  }
  EXPECT_EQ(total, long{kThreads} * kOps);
  for (auto& m : mu) pthread_mutex_destroy(&m);
}

TEST(PthreadStressTest, TransfersUnderTwoLocksConserveTheTotal) {
  // Each operation locks two accounts (in index order, so no deadlock) and
  // moves one unit; the sum never changes and every move is counted.
  constexpr int kAccounts = 8, kOps = 50000;
  constexpr long kInitial = 1000000;
  struct Account {
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    long balance = kInitial;
    long moves_in = 0;
  };
  std::vector<Account> accounts(kAccounts);
  std::atomic<long> bad_snapshots{0};
  RunThreads(kThreads, [&](int t) {
    Lcg rng{static_cast<uint64_t>(t) * 7919 + 3};
    for (int op = 0; op < kOps; op++) {
      int from = rng.Next() % kAccounts;
      int to = rng.Next() % kAccounts;
      if (from == to) to = (to + 1) % kAccounts;
      int lo = from < to ? from : to, hi = from < to ? to : from;
      pthread_mutex_lock(&accounts[lo].mu);
      pthread_mutex_lock(&accounts[hi].mu);
      accounts[from].balance--;
      accounts[to].balance++;
      accounts[to].moves_in++;
      pthread_mutex_unlock(&accounts[hi].mu);
      pthread_mutex_unlock(&accounts[lo].mu);
      if (op % 1000 == 0) {
        // A consistent snapshot: all locks, in order.
        long sum = 0;
        for (auto& a : accounts) pthread_mutex_lock(&a.mu);
        for (auto& a : accounts) sum += a.balance;
        for (int i = kAccounts - 1; i >= 0; i--) {
          pthread_mutex_unlock(&accounts[i].mu);
        }
        if (sum != kInitial * kAccounts) bad_snapshots++;
      }
    }
  });
  long sum = 0, moves = 0;
  for (auto& a : accounts) {
    sum += a.balance;
    moves += a.moves_in;
  }
  EXPECT_EQ(sum, kInitial * kAccounts);
  EXPECT_EQ(moves, long{kThreads} * kOps);
  EXPECT_EQ(bad_snapshots.load(), 0);
}

TEST(PthreadStressTest, BoundedQueueProducersAndConsumers) {
  constexpr int kProducers = kThreads / 2, kConsumers = kThreads / 2;
  constexpr int kItemsEach = 10000;
  constexpr size_t kCapacity = 8;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
  pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
  std::deque<long> queue;  // item = producer * kItemsEach + seq; -1 = stop
  int producers_left = kProducers;
  std::vector<long> consumed_sum(kConsumers, 0), consumed_count(kConsumers, 0);
  std::atomic<int> order_violations{0}, timeouts{0};
  RunThreads(kProducers + kConsumers, [&](int t) {
    if (t < kProducers) {
      for (int seq = 0; seq < kItemsEach; seq++) {
        struct timespec deadline = RealtimeDeadline(kDeadlineMs);
        pthread_mutex_lock(&mu);
        while (queue.size() >= kCapacity) {
          if (pthread_cond_timedwait(&not_full, &mu, &deadline) == ETIMEDOUT) {
            timeouts++;
            pthread_mutex_unlock(&mu);
            return;
          }
        }
        queue.push_back(long{t} * kItemsEach + seq);
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
      }
      pthread_mutex_lock(&mu);
      if (--producers_left == 0) {
        // One stop marker per consumer, after every item.
        for (int c = 0; c < kConsumers; c++) queue.push_back(-1);
        pthread_cond_broadcast(&not_empty);
      }
      pthread_mutex_unlock(&mu);
      return;
    }
    int c = t - kProducers;
    std::vector<long> last_seq(kProducers, -1);
    for (;;) {
      struct timespec deadline = RealtimeDeadline(kDeadlineMs);
      pthread_mutex_lock(&mu);
      while (queue.empty()) {
        if (pthread_cond_timedwait(&not_empty, &mu, &deadline) == ETIMEDOUT) {
          timeouts++;
          pthread_mutex_unlock(&mu);
          return;
        }
      }
      long item = queue.front();
      if (item == -1) {
        queue.pop_front();
        pthread_mutex_unlock(&mu);
        return;
      }
      queue.pop_front();
      pthread_cond_signal(&not_full);
      pthread_mutex_unlock(&mu);
      // FIFO: one consumer sees each producer's items in order.
      int p = item / kItemsEach;
      long seq = item % kItemsEach;
      if (seq <= last_seq[p]) order_violations++;
      last_seq[p] = seq;
      consumed_sum[c] += item;
      consumed_count[c]++;
    }
  });
  long n = long{kProducers} * kItemsEach;
  long sum = 0, count = 0;
  for (int c = 0; c < kConsumers; c++) {
    sum += consumed_sum[c];
    count += consumed_count[c];
  }
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_EQ(count, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
  EXPECT_EQ(order_violations.load(), 0);
  EXPECT_TRUE(queue.empty());
}

TEST(PthreadStressTest, TokenRingOverCondvars) {
  // A token passes around kThreads threads, each waiting on its own
  // condition variable for its turn; every hand-off is a signal to one
  // specific sleeper.
  constexpr int kLaps = 2000;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  std::vector<pthread_cond_t> turn_cv(kThreads);
  for (auto& cv : turn_cv) pthread_cond_init(&cv, nullptr);
  int holder = 0;
  long passes = 0;
  std::vector<int> visits(kThreads, 0);
  std::atomic<int> timeouts{0};
  RunThreads(kThreads, [&](int t) {
    for (int lap = 0; lap < kLaps; lap++) {
      struct timespec deadline = RealtimeDeadline(kDeadlineMs);
      pthread_mutex_lock(&mu);
      while (holder != t) {
        if (pthread_cond_timedwait(&turn_cv[t], &mu, &deadline) == ETIMEDOUT) {
          timeouts++;
          // Give up, but keep the ring moving for the others.
          holder = (t + 1) % kThreads;
          pthread_cond_signal(&turn_cv[holder]);
          pthread_mutex_unlock(&mu);
          return;
        }
      }
      visits[t]++;
      passes++;
      holder = (t + 1) % kThreads;
      pthread_cond_signal(&turn_cv[holder]);
      pthread_mutex_unlock(&mu);
    }
  });
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_EQ(passes, long{kThreads} * kLaps);
  for (int t = 0; t < kThreads; t++) EXPECT_EQ(visits[t], kLaps) << t;
  EXPECT_EQ(holder, 0);
  for (auto& cv : turn_cv) pthread_cond_destroy(&cv);
}

TEST(PthreadStressTest, BarrierRoundsSeeEveryContribution) {
  constexpr int kRounds = 1000;
  pthread_barrier_t barrier;
  ASSERT_EQ(pthread_barrier_init(&barrier, nullptr, kThreads), 0);
  std::vector<long> slot(kThreads, 0);
  std::atomic<int> verified_rounds{0}, bad_rounds{0}, serials{0};
  RunThreads(kThreads, [&](int t) {
    for (int r = 1; r <= kRounds; r++) {
      slot[t] = long{t + 1} * r;
      int ret = pthread_barrier_wait(&barrier);
      if (ret == PTHREAD_BARRIER_SERIAL_THREAD) {
        serials++;
        // Everyone has written this round's value and nobody has yet
        // started the next.
        long sum = 0;
        for (long v : slot) sum += v;
        if (sum == long{r} * kThreads * (kThreads + 1) / 2) {
          verified_rounds++;
        } else {
          bad_rounds++;
        }
      }
      pthread_barrier_wait(&barrier);
    }
  });
  EXPECT_EQ(serials.load(), kRounds);
  EXPECT_EQ(verified_rounds.load(), kRounds);
  EXPECT_EQ(bad_rounds.load(), 0);
  pthread_barrier_destroy(&barrier);
}

TEST(PthreadStressTest, RwlockReadersAlwaysSeeConsistentPairs) {
  constexpr int kWriters = 2, kWrites = 10000, kReads = 20000;
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  long a = 0, b = 0;
  std::atomic<long> torn{0}, reads{0};
  RunThreads(kThreads, [&](int t) {
    if (t < kWriters) {
      for (int i = 0; i < kWrites; i++) {
        pthread_rwlock_wrlock(&rw);
        a++;
        b--;
        pthread_rwlock_unlock(&rw);
      }
      return;
    }
    for (int i = 0; i < kReads; i++) {
      pthread_rwlock_rdlock(&rw);
      if (a != -b) torn++;
      pthread_rwlock_unlock(&rw);
      reads++;
    }
  });
  EXPECT_EQ(a, long{kWriters} * kWrites);
  EXPECT_EQ(b, -a);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(reads.load(), long{kThreads - kWriters} * kReads);
}

TEST(PthreadStressTest, SemaphorePipelineDeliversEveryItem) {
  // Stage i hands items to stage i+1 through a semaphore pair.
  constexpr int kItems = 5000;
  constexpr int kStages = kThreads;
  std::vector<sem_t> ready(kStages), room(kStages);
  std::vector<long> box(kStages, 0);
  for (int i = 0; i < kStages; i++) {
    sem_init(&ready[i], 0, 0);
    sem_init(&room[i], 0, 1);
  }
  long sink = 0;
  std::atomic<int> timeouts{0};
  RunThreads(kStages, [&](int s) {
    for (int i = 0; i < kItems; i++) {
      long v;
      if (s == 0) {
        v = i;
      } else {
        struct timespec deadline = RealtimeDeadline(kDeadlineMs);
        if (sem_timedwait(&ready[s - 1], &deadline) != 0) {
          timeouts++;
          return;
        }
        v = box[s - 1];
        sem_post(&room[s - 1]);
      }
      v += 1;  // each stage adds one
      if (s == kStages - 1) {
        sink += v;
        continue;
      }
      struct timespec deadline = RealtimeDeadline(kDeadlineMs);
      if (sem_timedwait(&room[s], &deadline) != 0) {
        timeouts++;
        return;
      }
      box[s] = v;
      sem_post(&ready[s]);
    }
  });
  EXPECT_EQ(timeouts.load(), 0);
  EXPECT_EQ(sink, long{kItems} * (kItems - 1) / 2 + long{kItems} * kStages);
  for (int i = 0; i < kStages; i++) {
    sem_destroy(&ready[i]);
    sem_destroy(&room[i]);
  }
}

TEST(PthreadStressTest, CreateAndJoinChurn) {
  constexpr int kRounds = 200;
  std::atomic<long> ran{0};
  for (int r = 0; r < kRounds; r++) {
    std::vector<pthread_t> threads(kThreads);
    for (int i = 0; i < kThreads; i++) {
      ASSERT_EQ(pthread_create(
                    &threads[i], nullptr,
                    [](void* p) -> void* {
                      static_cast<std::atomic<long>*>(p)->fetch_add(1);
                      return reinterpret_cast<void*>(syscall(SYS_gettid));
                    },
                    &ran),
                0)
          << "round " << r;
    }
    for (int i = 0; i < kThreads; i++) {
      void* ret = nullptr;
      struct timespec deadline = RealtimeDeadline(kDeadlineMs);
      ASSERT_EQ(pthread_timedjoin_np(threads[i], &ret, &deadline), 0);
      EXPECT_GT(reinterpret_cast<intptr_t>(ret), 0);
      EXPECT_NE(reinterpret_cast<intptr_t>(ret), getpid());
    }
  }
  EXPECT_EQ(ran.load(), long{kRounds} * kThreads);
}

TEST(PthreadStressTest, QueuedRealtimeSignalsToEachThreadArriveInOrder) {
  // Real-time signals queue (signal(7)): every one sent to a thread with
  // pthread_sigqueue arrives, in order, with its value.
  const int sig = SIGRTMIN + 2;
  constexpr int kPerThread = 1000;
  constexpr int kWindow = 16;  // in flight per thread, well under the limit
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  // A no-op handler, so that nothing left queued after a failure can kill
  // the binary once the mask is restored.
  struct sigaction sa = {}, old_sa = {};
  sa.sa_handler = [](int) {};
  sigemptyset(&sa.sa_mask);
  ASSERT_THAT(sigaction(sig, &sa, &old_sa), SyscallSucceeds());
  sigset_t old;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &set, &old), 0);  // inherited
  struct PerThread {
    std::atomic<pthread_t> self{};
    std::atomic<bool> started{false};
    std::atomic<int> received{0};
    std::atomic<int> out_of_order{0};
  };
  std::vector<PerThread> per(kThreads);
  std::atomic<int> errors{0};
  pthread_t sender;
  struct SenderArg {
    std::vector<PerThread>* per;
    int sig;
    std::atomic<int>* errors;
  } sender_arg{&per, sig, &errors};
  ASSERT_EQ(pthread_create(
                &sender, nullptr,
                [](void* p) -> void* {
                  auto* a = static_cast<SenderArg*>(p);
                  auto& per = *a->per;
                  struct timespec start;
                  clock_gettime(CLOCK_MONOTONIC, &start);
                  for (auto& pt : per) {
                    while (!pt.started.load()) usleep(100);
                  }
                  std::vector<int> sent(per.size(), 0);
                  bool more = true;
                  while (more) {
                    more = false;
                    for (size_t t = 0; t < per.size(); t++) {
                      if (sent[t] == kPerThread) continue;
                      more = true;
                      if (sent[t] - per[t].received.load() >= kWindow) continue;
                      union sigval v;
                      v.sival_int = sent[t];
                      int err = pthread_sigqueue(per[t].self.load(), a->sig, v);
                      if (err == EAGAIN) continue;  // queue limit: retry later
                      if (err != 0) {
                        (*a->errors)++;
                        return nullptr;
                      }
                      sent[t]++;
                    }
                    struct timespec now;
                    clock_gettime(CLOCK_MONOTONIC, &now);
                    if (now.tv_sec - start.tv_sec > kDeadlineMs / 1000) {
                      (*a->errors)++;
                      return nullptr;
                    }
                    sched_yield();
                  }
                  return nullptr;
                },
                &sender_arg),
            0);
  RunThreads(kThreads, [&](int t) {
    per[t].self = pthread_self();
    per[t].started = true;
    for (int i = 0; i < kPerThread; i++) {
      siginfo_t info;
      struct timespec timeout = {kDeadlineMs / 1000, 0};
      if (sigtimedwait(&set, &info, &timeout) != sig) {
        errors++;
        return;
      }
      if (info.si_code != SI_QUEUE || info.si_value.sival_int != i) {
        per[t].out_of_order++;
      }
      per[t].received++;
    }
  });
  struct timespec deadline = RealtimeDeadline(kDeadlineMs);
  ASSERT_EQ(pthread_timedjoin_np(sender, nullptr, &deadline), 0);
  EXPECT_EQ(errors.load(), 0);
  for (int t = 0; t < kThreads; t++) {
    EXPECT_EQ(per[t].received.load(), kPerThread) << t;
    EXPECT_EQ(per[t].out_of_order.load(), 0) << t;
  }
  // Nothing left over for the process.
  struct timespec zero = {0, 0};
  EXPECT_THAT(sigtimedwait(&set, nullptr, &zero),
              SyscallFailsWithErrno(EAGAIN));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  sigaction(sig, &old_sa, nullptr);
}

}  // namespace
}  // namespace sentry::testing
