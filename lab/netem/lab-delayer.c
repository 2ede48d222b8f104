/*
 * lab-delayer: the lab's userspace link impairment, for kernels without netem.
 *
 * iptables sends the selected packets to NFQUEUE <queue> (with --queue-bypass: if this daemon
 * is not running, the packets pass unimpaired: fail-open). For each packet this daemon decides:
 *   - drop it with probability <loss %>;
 *   - else release it (NF_ACCEPT) at   max(arrival + delay ± jitter, previous release)   (FIFO: no
 *     reordering, jitter only spreads the gaps), then no earlier than the token bucket of
 *     <rate kbit/s> allows (burst: one MTU).
 * Packets wait in the kernel's queue; this daemon only holds their ids and release times.
 *
 * usage: lab-delayer --queue N [--delay-ms D] [--jitter-ms J] [--loss-pct P] [--rate-kbit R]
 * Prints one line "ready queue=N" once bound, then a counters line on SIGUSR1 and at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define RING 65536

struct held {
  uint32_t id;
  int64_t release_ns;
};

static struct held ring[RING];
static unsigned head, tail; /* ring[head..tail) */
static int64_t last_release_ns;
static int64_t bucket_free_ns; /* when the token bucket can send the next byte */
static double delay_ns, jitter_ns, loss_p, ns_per_byte;
static unsigned long long n_seen, n_dropped, n_passed, n_overflow;
static volatile sig_atomic_t stop_flag, dump_flag;
static struct nfq_q_handle *qh;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double uniform(void) { return (double)random() / ((double)RAND_MAX + 1.0); }

static void counters(const char *when) {
  printf("%s seen=%llu passed=%llu dropped=%llu overflow=%llu held=%u\n", when, n_seen, n_passed, n_dropped, n_overflow, tail - head);
  fflush(stdout);
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  n_seen++;
  if (loss_p > 0 && uniform() < loss_p) {
    n_dropped++;
    return nfq_set_verdict(q, id, NF_DROP, 0, NULL);
  }
  int64_t t = now_ns();
  double d = delay_ns;
  if (jitter_ns > 0) d += (uniform() * 2.0 - 1.0) * jitter_ns;
  if (d < 0) d = 0;
  int64_t release = t + (int64_t)d;
  if (release < last_release_ns) release = last_release_ns; /* in order */
  if (ns_per_byte > 0) {
    unsigned char *payload;
    int len = nfq_get_payload(nfa, &payload);
    unsigned bytes = 1500;
    if (len >= 4) bytes = ((unsigned)payload[2] << 8) | payload[3]; /* IPv4 total length */
    if (bucket_free_ns < release - (int64_t)(1500 * ns_per_byte)) bucket_free_ns = release - (int64_t)(1500 * ns_per_byte); /* burst: one MTU */
    bucket_free_ns += (int64_t)(bytes * ns_per_byte);
    if (release < bucket_free_ns) release = bucket_free_ns;
  }
  if (release <= t && head == tail) {
    n_passed++;
    last_release_ns = t;
    return nfq_set_verdict(q, id, NF_ACCEPT, 0, NULL);
  }
  if (tail - head >= RING) { /* full: let it through rather than hold the kernel's queue */
    n_overflow++;
    return nfq_set_verdict(q, id, NF_ACCEPT, 0, NULL);
  }
  ring[tail % RING] = (struct held){id, release};
  tail++;
  last_release_ns = release;
  return 0;
}

static void release_due(void) {
  int64_t t = now_ns();
  while (head != tail && ring[head % RING].release_ns <= t) {
    nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL);
    head++;
    n_passed++;
  }
}

static void on_signal(int sig) {
  if (sig == SIGUSR1)
    dump_flag = 1;
  else
    stop_flag = 1;
}

int main(int argc, char **argv) {
  int queue = -1;
  double delay_ms = 0, jitter_ms = 0, loss_pct = 0, rate_kbit = 0;
  static struct option opts[] = {{"queue", required_argument, 0, 'q'},     {"delay-ms", required_argument, 0, 'd'},
                                 {"jitter-ms", required_argument, 0, 'j'}, {"loss-pct", required_argument, 0, 'l'},
                                 {"rate-kbit", required_argument, 0, 'r'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'q': queue = atoi(optarg); break;
    case 'd': delay_ms = atof(optarg); break;
    case 'j': jitter_ms = atof(optarg); break;
    case 'l': loss_pct = atof(optarg); break;
    case 'r': rate_kbit = atof(optarg); break;
    default: fprintf(stderr, "usage: lab-delayer --queue N [--delay-ms D] [--jitter-ms J] [--loss-pct P] [--rate-kbit R]\n"); return 2;
    }
  }
  if (queue < 0 || queue > 65535 || delay_ms < 0 || jitter_ms < 0 || loss_pct < 0 || loss_pct > 100 || rate_kbit < 0) {
    fprintf(stderr, "lab-delayer: bad arguments\n");
    return 2;
  }
  delay_ns = delay_ms * 1e6;
  jitter_ns = jitter_ms * 1e6;
  loss_p = loss_pct / 100.0;
  ns_per_byte = rate_kbit > 0 ? 8e6 / rate_kbit : 0; /* 1 kbit/s = 1000 bit/s: 8 bits take 8e9/(R*1000) ns */
  srandom((unsigned)now_ns());

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);

  struct nfq_handle *h = nfq_open();
  if (!h) {
    perror("lab-delayer: nfq_open");
    return 1;
  }
  qh = nfq_create_queue(h, (uint16_t)queue, &on_packet, NULL);
  if (!qh) {
    perror("lab-delayer: nfq_create_queue");
    return 1;
  }
  /* The first 4 bytes (IPv4 total length) are all the rate needs; without a rate, metadata only. */
  if (nfq_set_mode(qh, ns_per_byte > 0 ? NFQNL_COPY_PACKET : NFQNL_COPY_META, 4) < 0) {
    perror("lab-delayer: nfq_set_mode");
    return 1;
  }
  nfq_set_queue_maxlen(qh, RING);
  int fd = nfq_fd(h);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 8 * 1024 * 1024);
  printf("ready queue=%d delay=%gms jitter=%gms loss=%g%% rate=%gkbit\n", queue, delay_ms, jitter_ms, loss_pct, rate_kbit);
  fflush(stdout);

  char buf[65536] __attribute__((aligned));
  while (!stop_flag) {
    if (dump_flag) {
      dump_flag = 0;
      counters("counters");
    }
    struct timespec ts, *timeout = NULL;
    if (head != tail) {
      int64_t wait = ring[head % RING].release_ns - now_ns();
      if (wait < 0) wait = 0;
      ts.tv_sec = wait / 1000000000LL;
      ts.tv_nsec = wait % 1000000000LL;
      timeout = &ts;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int r = ppoll(&p, 1, timeout, NULL);
    if (r < 0 && errno != EINTR) {
      perror("lab-delayer: poll");
      break;
    }
    if (r > 0 && (p.revents & POLLIN)) {
      /* Drain what is readable now, without blocking. */
      for (;;) {
        int n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
          if (errno == ENOBUFS) { /* the kernel dropped messages for us: those packets are lost */
            n_overflow++;
            continue;
          }
          break;
        }
        nfq_handle_packet(h, buf, n);
      }
    }
    release_due();
  }
  /* Leaving: release everything still held (in order), then unbind. */
  while (head != tail) {
    nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL);
    head++;
    n_passed++;
  }
  counters("exit");
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
