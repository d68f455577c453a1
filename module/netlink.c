// SPDX-License-Identifier: GPL-2.0
/*
 * The "devexcl" generic netlink family: revocation events to subscribers,
 * streamed rmap dumps of ranges, and module-wide counters.
 *
 * Events are produced inside MMU notifier callbacks, which sit on the
 * revoking CPU fault, so that side only copies a record into a
 * preallocated ring (nothing at all when nobody subscribed). A work item
 * on another CPU turns the ring into messages: for each entitled
 * subscriber, as many events as fit one skb, unicast without blocking.
 * The first event after a quiet spell kicks the work at once; the work
 * then polls the ring every jiffy until a poll finds it empty. So an
 * isolated event goes out at once, events of a stream wait at most a
 * jiffy, and during a burst of revocations the faulting CPU neither wakes
 * anyone nor sends an IPI while one wakeup and one skb carry many events.
 *
 * Nothing is lost silently: an event that cannot be queued, or whose skb
 * does not fit the subscriber's socket, is counted for every subscriber
 * entitled to it, and the count rides on the next message it receives.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pid_namespace.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat/genetlink.h"
#include "compat/workqueue.h"
#include "devexcl.h"
#include "devexcl_trace.h"
#include "objid.h"

/* Dump messages: larger than netlink's default 32 KiB halves the per-message cost. */
#define DEVEXCL_DUMP_SKB_SIZE SKB_WITH_OVERHEAD(SZ_64K)
/* With runs, a message stops taking chunks of fewer pages than this. */
#define DEVEXCL_DUMP_MIN_CHUNK 64UL
/* Events sent at once to one subscriber: one skb of this size. */
#define DEVEXCL_EVENT_SKB_SIZE SKB_WITH_OVERHEAD(SZ_16K)
/* Subscribers at once: a bound on the work each event costs. */
#define DEVEXCL_MAX_SUBSCRIBERS 64
/* Of those, kept for CAP_SYS_ADMIN: other users cannot lock admins out. */
#define DEVEXCL_ADMIN_RESERVED 16
/* Events waiting to be sent: a bound on memory when nobody reads. */
#define DEVEXCL_MAX_PENDING 16384

struct devexcl_stats devexcl_stats;

/*
 * What events of one context share: who may see them and whom they are
 * about. Referenced by the context and by queued events (a run of them
 * shares one reference, see struct pending_event), so queuing costs at
 * most one reference for these, not one per pid.
 */
struct devexcl_event_source {
	struct kref ref;
	u64 ctx_id;
	struct pid *owner;
	struct pid *target;
};

/*
 * One revocation batch waiting to be sent, in a slot of the event ring.
 * A slot holds references on @src and @rec.trigger only where @owns_src
 * and @owns_trigger say so: otherwise it shares those of the slot before
 * it, which the same work pass sends and releases (see
 * devexcl_netlink_revoked()).
 */
struct pending_event {
	struct devexcl_event_source *src;
	struct devexcl_revocation_rec rec;
	bool owns_src;
	bool owns_trigger;
};

/*
 * A subscribed socket. @tgid is the subscribing thread group: it may
 * receive the events of the contexts it opened; @admin receives all.
 * The list is RCU-protected so that the notifier side can count a lost
 * event for exactly the subscribers entitled to it. @sk is held so that a
 * port id freed by a closing socket, and bound again by another, never
 * inherits this subscription.
 */
struct subscriber {
	struct list_head node;
	struct rcu_head rcu;
	struct net *net;
	struct sock *sk;
	u32 portid;
	struct pid *tgid;
	struct pid_namespace *pid_ns;
	bool admin;
	u64 filter_ctx_id;
	struct pid *filter_target;
	atomic64_t dropped;
};

static LIST_HEAD(devexcl_subscribers);
static DEFINE_MUTEX(devexcl_subscribers_lock);
/* Read locklessly by the notifier callback: nothing to do when 0. */
static atomic_t devexcl_nr_subscribers = ATOMIC_INIT(0);

/*
 * The event ring: producers (notifier callbacks) fill slots at @head under
 * the lock; the work item claims [tail, head) under it (moving @claimed),
 * reads those slots without it and then frees them by moving @tail.
 * Preallocated, so queuing never allocates.
 * @polling: the work is queued or will poll again; set and cleared under
 * the lock, so an event is never left in the ring with nobody to send it.
 */
static struct pending_event *devexcl_ring;
static unsigned long devexcl_ring_head, devexcl_ring_claimed, devexcl_ring_tail;
static bool devexcl_polling;
static DEFINE_SPINLOCK(devexcl_ring_lock);
static void devexcl_event_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(devexcl_event_work, devexcl_event_work_fn);

static struct genl_family devexcl_genl_family;

/**
 * devexcl_event_source_new() - what a context's events share
 * @ctx_id: the context's id
 * @owner: the thread group that opened it
 * @target: the process it acts on
 *
 * Return: a new source holding references on both pids, or NULL.
 */
struct devexcl_event_source *devexcl_event_source_new(u64 ctx_id,
						      struct pid *owner,
						      struct pid *target)
{
	struct devexcl_event_source *src = kzalloc(sizeof(*src), GFP_KERNEL);

	if (!src)
		return NULL;
	kref_init(&src->ref);
	src->ctx_id = ctx_id;
	src->owner = get_pid(owner);
	src->target = get_pid(target);
	return src;
}

static void event_source_release(struct kref *ref)
{
	struct devexcl_event_source *src =
		container_of(ref, struct devexcl_event_source, ref);

	put_pid(src->owner);
	put_pid(src->target);
	kfree(src);
}

/**
 * devexcl_event_source_put() - drop a reference on an event source
 * @src: the source, or NULL
 */
void devexcl_event_source_put(struct devexcl_event_source *src)
{
	if (src)
		kref_put(&src->ref, event_source_release);
}

/* Read under RCU too (count_lost()): a re-subscription may change the fields. */
static bool entitled(const struct subscriber *sub,
		     const struct devexcl_event_source *src)
{
	u64 filter_ctx_id = READ_ONCE(sub->filter_ctx_id);
	struct pid *filter_target = READ_ONCE(sub->filter_target);

	if (!READ_ONCE(sub->admin) && sub->tgid != src->owner)
		return false;
	if (filter_ctx_id && filter_ctx_id != src->ctx_id)
		return false;
	return !filter_target || filter_target == src->target;
}

/* An event of @src could not be queued: every entitled subscriber lost it. */
static void count_lost(const struct devexcl_event_source *src)
{
	struct subscriber *sub;

	devexcl_stat_add(DEVEXCL_STAT_EVENTS_LOST, 1);
	rcu_read_lock();
	list_for_each_entry_rcu(sub, &devexcl_subscribers, node)
		if (entitled(sub, src))
			atomic64_inc(&sub->dropped);
	rcu_read_unlock();
}

/*
 * Delivery runs on another CPU than the revoking fault's: the faulting task
 * pays for queueing only. Preemption is off so that the CPU chosen stays
 * online until the work is queued on it; hotplug moves it if it goes down.
 */
static void kick_event_work(void)
{
	int this_cpu = get_cpu();
	/* The next online CPU, wrapping (open-coded: cpumask_next_wrap() changed arity in 6.15). */
	int cpu = cpumask_next(this_cpu, cpu_online_mask);

	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	queue_delayed_work_on(cpu, devexcl_percpu_wq, &devexcl_event_work, 0);
	put_cpu();
}

/**
 * devexcl_netlink_revoked() - queue the event of one revocation batch
 * @src: the context's event source
 * @rec: the batch, as logged
 *
 * Called from MMU notifier callbacks, on the revoking CPU fault: no
 * sleeping, no allocation, one short spinlock.
 *
 * A stream of faults comes from one task on one context. Its events take
 * references on the source and the trigger's pid only once per work pass:
 * a slot whose predecessor is not yet claimed by the work, and names the
 * same objects, shares that slot's references. The work puts them after
 * sending the whole pass, which always claims both slots together. Were
 * each slot to take its own, every fault would write reference counts the
 * work just wrote on another CPU.
 */
void devexcl_netlink_revoked(struct devexcl_event_source *src,
			     const struct devexcl_revocation_rec *rec)
{
	const struct pending_event *prev;
	struct pending_event *ev;
	bool full, kick;

	if (!src || !atomic_read(&devexcl_nr_subscribers))
		return;
	spin_lock(&devexcl_ring_lock);
	full = devexcl_ring_head - devexcl_ring_tail >= DEVEXCL_MAX_PENDING;
	if (!full) {
		prev = devexcl_ring_head != devexcl_ring_claimed ?
			&devexcl_ring[(devexcl_ring_head - 1) % DEVEXCL_MAX_PENDING] :
			NULL;
		ev = &devexcl_ring[devexcl_ring_head % DEVEXCL_MAX_PENDING];
		ev->src = src;
		ev->rec = *rec;
		ev->owns_src = !prev || prev->src != src;
		ev->owns_trigger = !prev || prev->rec.trigger != rec->trigger;
		if (ev->owns_src)
			kref_get(&src->ref);
		if (ev->owns_trigger)
			get_pid(ev->rec.trigger);
		devexcl_ring_head++;
	}
	kick = !full && !devexcl_polling;
	if (kick)
		devexcl_polling = true;
	spin_unlock(&devexcl_ring_lock);
	if (full)
		count_lost(src);
	else if (kick)
		kick_event_work();
}

static void fill_event(struct devexcl_event *out, const struct subscriber *sub,
		       const struct pending_event *ev, u64 dropped)
{
	out->ctx_id = ev->src->ctx_id;
	out->start = ev->rec.start;
	out->end = ev->rec.end;
	out->npages = ev->rec.npages;
	out->seq = ev->rec.seq;
	out->timestamp_ns = ev->rec.timestamp_ns;
	out->dropped = dropped;
	out->cause = ev->rec.cause;
	out->target_pid = pid_nr_ns(ev->src->target, sub->pid_ns);
	out->trigger_pid = pid_nr_ns(ev->rec.trigger, sub->pid_ns);
	out->reserved = 0;
	memcpy(out->trigger_comm, ev->rec.comm, sizeof(out->trigger_comm));
}

static void free_subscriber(struct subscriber *sub)
{
	put_pid(sub->tgid);
	put_pid(sub->filter_target);
	put_pid_ns(sub->pid_ns);
	sock_put(sub->sk);
	put_net(sub->net);
	kfree_rcu(sub, rcu);
}

/* Caller holds devexcl_subscribers_lock. */
static void remove_subscriber(struct subscriber *sub)
{
	list_del_rcu(&sub->node);
	atomic_dec(&devexcl_nr_subscribers);
	free_subscriber(sub);
}

/*
 * Unicast @skb, holding @n events of which the first reports @reported
 * drops. Returns false if the subscriber is gone (and was removed).
 */
static bool send_events(struct subscriber *sub, struct sk_buff *skb,
			unsigned long n, u64 reported)
{
	int ret;

	/* Closing: its port id may already belong to another socket. */
	if (sock_flag(sub->sk, SOCK_DEAD)) {
		nlmsg_free(skb);
		remove_subscriber(sub);
		return false;
	}
	/* Never blocks: a full socket returns -EAGAIN. */
	ret = genlmsg_unicast(sub->net, skb, sub->portid);

	if (!ret) {
		atomic64_sub(reported, &sub->dropped);
		devexcl_stat_add(DEVEXCL_STAT_EVENTS_SENT, n);
		return true;
	}
	if (ret == -ECONNREFUSED) {
		remove_subscriber(sub);
		return false;
	}
	atomic64_add(n, &sub->dropped);
	devexcl_stat_add(DEVEXCL_STAT_EVENTS_DROPPED, n);
	return true;
}

/* Events that fit one event message's array. */
#define EVENTS_PER_SKB ((DEVEXCL_EVENT_SKB_SIZE - GENL_HDRLEN - NLMSG_HDRLEN - \
			 2 * NLA_HDRLEN - 8) / sizeof(struct devexcl_event))

/*
 * Sends events [*next, last) of the ring that @sub may see, up to one
 * message's worth, and advances *next past them. Returns false if the
 * subscriber is gone (and was removed).
 */
static bool deliver_one_message(struct subscriber *sub, unsigned long *next,
				unsigned long last)
{
	struct devexcl_event *out;
	struct sk_buff *skb;
	struct nlattr *attr;
	unsigned long i, n = 0;
	u64 reported;
	void *hdr;

	/* Count what this message will carry, then fill it in place. */
	for (i = *next; i != last && n < EVENTS_PER_SKB; i++)
		n += entitled(sub, devexcl_ring[i % DEVEXCL_MAX_PENDING].src);
	if (!n) {
		*next = last;
		return true;
	}
	skb = genlmsg_new(nla_total_size_64bit(n * sizeof(*out)), GFP_KERNEL);
	hdr = skb ? genlmsg_put(skb, 0, 0, &devexcl_genl_family, 0,
				DEVEXCL_CMD_EVENT) : NULL;
	attr = hdr ? nla_reserve_64bit(skb, DEVEXCL_A_EVENTS, n * sizeof(*out),
				       DEVEXCL_A_PAD) : NULL;
	if (!attr) {
		nlmsg_free(skb);
		atomic64_add(n, &sub->dropped);
		devexcl_stat_add(DEVEXCL_STAT_EVENTS_DROPPED, n);
		*next = i;
		return true;
	}
	out = nla_data(attr);
	reported = atomic64_read(&sub->dropped);
	for (i = *next, n = 0; i != last && n < EVENTS_PER_SKB; i++) {
		const struct pending_event *ev = &devexcl_ring[i % DEVEXCL_MAX_PENDING];

		if (entitled(sub, ev->src)) {
			fill_event(&out[n], sub, ev, n ? 0 : reported);
			n++;
		}
	}
	*next = i;
	genlmsg_end(skb, hdr);
	return send_events(sub, skb, n, reported);
}

/* The events in ring slots [first, last) that @sub may see. */
static void deliver(struct subscriber *sub, unsigned long first,
		    unsigned long last)
{
	while (first != last)
		if (!deliver_one_message(sub, &first, last))
			return;
}

static void devexcl_event_work_fn(struct work_struct *work)
{
	struct subscriber *sub, *next;
	unsigned long first, last, i;

	spin_lock(&devexcl_ring_lock);
	first = devexcl_ring_tail;
	last = devexcl_ring_head;
	devexcl_ring_claimed = last;
	/* A poll that finds nothing ends the burst: the next event kicks again. */
	if (first == last)
		devexcl_polling = false;
	spin_unlock(&devexcl_ring_lock);
	if (first == last)
		return;

	/* Producers only write past @last: these slots are ours until tail moves. */
	mutex_lock(&devexcl_subscribers_lock);
	list_for_each_entry_safe(sub, next, &devexcl_subscribers, node) {
		deliver(sub, first, last);
		cond_resched();
	}
	mutex_unlock(&devexcl_subscribers_lock);
	/* Only now: slots of this pass may share these references. */
	for (i = first; i != last; i++) {
		const struct pending_event *ev = &devexcl_ring[i % DEVEXCL_MAX_PENDING];

		if (ev->owns_src)
			devexcl_event_source_put(ev->src);
		if (ev->owns_trigger)
			put_pid(ev->rec.trigger);
	}

	spin_lock(&devexcl_ring_lock);
	devexcl_ring_tail = last;
	spin_unlock(&devexcl_ring_lock);
	/*
	 * More may be on the way: look again in a jiffy, on this CPU (online
	 * while preemption is off).
	 */
	queue_delayed_work_on(get_cpu(), devexcl_percpu_wq, &devexcl_event_work, 1);
	put_cpu();
}

/* The subscription of socket @sk. Caller holds devexcl_subscribers_lock. */
static struct subscriber *find_subscriber(struct sock *sk)
{
	struct subscriber *sub;

	list_for_each_entry(sub, &devexcl_subscribers, node)
		if (sub->sk == sk)
			return sub;
	return NULL;
}

/* The thread group of the process @nr names, as contexts record targets. */
static struct pid *find_get_tgid(u32 nr)
{
	struct pid *pid = find_get_pid(nr);
	struct pid *tgid = pid ? devexcl_get_tgid(pid) : NULL;

	put_pid(pid);
	return tgid;
}

static int devexcl_nl_subscribe(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *filter_pid = info->attrs[DEVEXCL_A_FILTER_PID];
	struct nlattr *filter_ctx = info->attrs[DEVEXCL_A_FILTER_CTX_ID];
	/* Entitlement is decided now, with the subscriber's credentials. */
	bool admin = netlink_capable(skb, CAP_SYS_ADMIN);
	struct sock *sk = NETLINK_CB(skb).sk;
	struct pid *target = NULL;
	struct subscriber *sub;
	int ret = 0;

	if (filter_pid) {
		target = find_get_tgid(nla_get_u32(filter_pid));
		if (!target) {
			NL_SET_ERR_MSG_ATTR(info->extack, filter_pid,
					    "no such process to filter on");
			return -ESRCH;
		}
	}
	mutex_lock(&devexcl_subscribers_lock);
	sub = find_subscriber(sk);
	if (sub) {
		/* A new subscription of the same socket: new filters, rights rechecked. */
		WRITE_ONCE(sub->admin, admin);
		WRITE_ONCE(sub->filter_ctx_id, filter_ctx ? nla_get_u64(filter_ctx) : 0);
		target = xchg(&sub->filter_target, target);
		goto out;
	}
	if (atomic_read(&devexcl_nr_subscribers) >=
	    DEVEXCL_MAX_SUBSCRIBERS - (admin ? 0 : DEVEXCL_ADMIN_RESERVED)) {
		GENL_SET_ERR_MSG(info, "too many subscribers");
		ret = -ENOSPC;
		goto out;
	}
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub) {
		ret = -ENOMEM;
		goto out;
	}
	sub->net = get_net(genl_info_net(info));
	sock_hold(sk);
	sub->sk = sk;
	sub->portid = info->snd_portid;
	sub->tgid = get_task_pid(current, PIDTYPE_TGID);
	sub->pid_ns = get_pid_ns(task_active_pid_ns(current));
	sub->admin = admin;
	sub->filter_ctx_id = filter_ctx ? nla_get_u64(filter_ctx) : 0;
	sub->filter_target = target;
	target = NULL;
	atomic64_set(&sub->dropped, 0);
	/* Complete before it is published to the notifier side. */
	list_add_tail_rcu(&sub->node, &devexcl_subscribers);
	atomic_inc(&devexcl_nr_subscribers);
out:
	mutex_unlock(&devexcl_subscribers_lock);
	put_pid(target);
	return ret;
}

static int devexcl_nl_unsubscribe(struct sk_buff *skb, struct genl_info *info)
{
	struct subscriber *sub;
	int ret = 0;

	mutex_lock(&devexcl_subscribers_lock);
	sub = find_subscriber(NETLINK_CB(skb).sk);
	if (sub) {
		remove_subscriber(sub);
	} else {
		GENL_SET_ERR_MSG(info, "this socket is not subscribed");
		ret = -ENOENT;
	}
	mutex_unlock(&devexcl_subscribers_lock);
	return ret;
}

static int devexcl_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *reply;
	struct nlattr *nest;
	void *hdr;
	int i;

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &devexcl_genl_family, 0,
				DEVEXCL_CMD_GET_STATS);
	if (!hdr)
		goto fail;
	nest = nla_nest_start(reply, DEVEXCL_A_STATS);
	if (!nest)
		goto fail;
	for (i = DEVEXCL_STAT_CONTEXTS_OPEN; i <= DEVEXCL_STAT_MAX; i++) {
		u64 value = i == DEVEXCL_STAT_SUBSCRIBERS ?
			atomic_read(&devexcl_nr_subscribers) :
			atomic64_read(&devexcl_stats.v[i]);

		if (nla_put_u64_64bit(reply, i, value, DEVEXCL_STAT_PAD))
			goto fail;
	}
	nla_nest_end(reply, nest);
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
fail:
	nlmsg_free(reply);
	return -EMSGSIZE;
}

/**
 * devexcl_genlmsg_put_reply() - the header of a reply of the devexcl family
 * @skb: the reply
 * @info: the request
 * @cmd: DEVEXCL_CMD_*
 *
 * Return: the user header, or NULL if @skb has no room.
 */
void *devexcl_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info,
				u8 cmd)
{
	return genlmsg_put_reply(skb, info, &devexcl_genl_family, 0, cmd);
}

/* State of one INSPECT dump, kept in netlink_callback::ctx between callbacks. */
struct inspect_dump {
	struct pid *pid;
	struct devexcl_inspect_buf *buf;
	u64 cursor;
	u64 end;
	u32 flags;
	bool show_pfn;
	bool started;
};

static_assert(sizeof(struct inspect_dump) <= sizeof_field(struct netlink_callback, ctx));

/*
 * Checks the request and sets the dump up. Done in the first dumpit call,
 * not in .start: 6.1 gives .start no extack (cb->extack is only set for
 * dumpit), and every refusal here deserves a message.
 */
static int inspect_dump_begin(struct inspect_dump *dump,
			      struct netlink_callback *cb)
{
	struct nlattr **attrs = devexcl_dump_attrs(cb);
	static const int required[] = { DEVEXCL_A_PID, DEVEXCL_A_START, DEVEXCL_A_END };
	struct mm_struct *mm;
	struct pid *pid;
	u64 start, end;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(required); i++) {
		if (!attrs[required[i]]) {
			NL_SET_ERR_MSG(cb->extack, "PID, START and END are required");
			NL_SET_ERR_ATTR_MISS(cb->extack, NULL, required[i]);
			return -EINVAL;
		}
	}
	start = nla_get_u64(attrs[DEVEXCL_A_START]);
	end = nla_get_u64(attrs[DEVEXCL_A_END]);
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(end) || end <= start) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[DEVEXCL_A_END],
				    "need page-aligned START < END");
		return -EINVAL;
	}
	if (end > TASK_SIZE_MAX) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[DEVEXCL_A_END],
				    "END is beyond the user address space");
		return -EFAULT;
	}
	dump->cursor = attrs[DEVEXCL_A_CURSOR] ?
		nla_get_u64(attrs[DEVEXCL_A_CURSOR]) : start;
	if (!PAGE_ALIGNED(dump->cursor) || dump->cursor < start ||
	    dump->cursor > end) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[DEVEXCL_A_CURSOR],
				    "CURSOR must be a page-aligned address in [START, END]");
		return -EINVAL;
	}
	/* The pid, not its number: a reused number must not redirect the dump. */
	pid = find_get_pid(nla_get_u32(attrs[DEVEXCL_A_PID]));
	mm = pid ? devexcl_get_pid_mm(pid) : ERR_PTR(-ESRCH);
	if (PTR_ERR_OR_ZERO(mm) == -EPERM) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[DEVEXCL_A_PID],
				    "no ptrace-level rights over that process");
		put_pid(pid);
		return -EPERM;
	} else if (IS_ERR(mm)) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attrs[DEVEXCL_A_PID],
				    "no such process with an address space");
		put_pid(pid);
		return PTR_ERR(mm);
	}
	mmput(mm);
	dump->flags = attrs[DEVEXCL_A_FLAGS] ? nla_get_u32(attrs[DEVEXCL_A_FLAGS]) : 0;
	/* Probes are kept only for rmap walks. */
	if (dump->flags & DEVEXCL_INSPECT_WALK_RMAP) {
		dump->buf = devexcl_inspect_buf_alloc();
		if (!dump->buf) {
			put_pid(pid);
			return -ENOMEM;
		}
	}
	dump->pid = pid;
	dump->end = end;
	/* The requester's rights: a later read may run this in another task. */
	dump->show_pfn = netlink_capable(cb->skb, CAP_SYS_ADMIN);
	dump->started = true;
	devexcl_stat_add(DEVEXCL_STAT_DUMPS, 1);
	return 0;
}

/*
 * Only sizes the dump's skbs: netlink allocates the first one before the
 * first dumpit call, from what the socket last read (3776 bytes on a
 * fresh one), and with an offset that same length decides.
 */
static int devexcl_nl_inspect_start(struct netlink_callback *cb)
{
	cb->min_dump_alloc = DEVEXCL_DUMP_SKB_SIZE;
	return 0;
}

/*
 * Reserves an attribute whose payload starts 8-byte aligned in the
 * message (which starts the skb), after a pad attribute if needed: records
 * hold u64s. nla_reserve_64bit() pads only where unaligned access is slow,
 * not on x86, and looks at the kernel address, not the message offset.
 */
static struct nlattr *dump_reserve_aligned(struct sk_buff *skb, int type,
					   int len)
{
	if (!IS_ALIGNED(skb->len + NLA_HDRLEN, 8) &&
	    !nla_reserve(skb, DEVEXCL_A_PAD, 0))
		return NULL;
	return nla_reserve(skb, type, len);
}

/*
 * A chunk of n pages takes at most a record a page, plus the pad and
 * header of the array it opens (see struct dump_message).
 */
#define DEVEXCL_DUMP_CHUNK_OVERHEAD (2 * NLA_HDRLEN)

/* An array's length must fit nla_len. */
static_assert(DEVEXCL_DUMP_SKB_SIZE <= U16_MAX);

/*
 * One dump message being filled with arrays of records and, with runs,
 * runs of empty pages, always extending the last attribute in the skb.
 * A page takes at most a record: a new array's pad and header come after
 * a run, whose 28 bytes or more are less than the record it replaced, so
 * n pages never take more than n records and DEVEXCL_DUMP_CHUNK_OVERHEAD.
 * Records of the open array are written at the skb's tail through the
 * sink's next pointer, and put into the skb by dump_sync_records().
 */
struct dump_message {
	struct devexcl_page_sink sink;
	struct sk_buff *skb;
	struct nlattr *records;		/* the open DEVEXCL_A_PAGE_INFOS, or NULL */
	struct devexcl_empty_run *run;	/* the open run, or NULL */
	/* Where pages go if the bound above were wrong: the message is then dropped. */
	bool overflow;
	struct devexcl_page_info scratch;
	/* What the message carries, for the devexcl_dump tracepoint. */
	unsigned long nr_records;
	unsigned long nr_runs;
};

/* Puts the records written at the tail into the skb and the open array. */
static void dump_sync_records(struct dump_message *msg)
{
	unsigned int len;

	if (!msg->records)
		return;
	len = (u8 *)msg->sink.next - skb_tail_pointer(msg->skb);
	skb_put(msg->skb, len);
	msg->records->nla_len += len;
	msg->nr_records += len / sizeof(struct devexcl_page_info);
}

static struct devexcl_page_info *dump_record(struct devexcl_page_sink *sink)
{
	struct dump_message *msg = container_of(sink, struct dump_message, sink);

	if (msg->overflow)
		goto overflow;
	/* The open array is full, so the bound above was wrong. */
	if (WARN_ON_ONCE(msg->records))
		goto overflow;
	msg->records = dump_reserve_aligned(msg->skb, DEVEXCL_A_PAGE_INFOS, 0);
	if (WARN_ON_ONCE(!msg->records))
		goto overflow;
	msg->run = NULL;
	sink->next = (struct devexcl_page_info *)skb_tail_pointer(msg->skb);
	sink->end = sink->next + skb_tailroom(msg->skb) / sizeof(*sink->next);
	return sink->next++;
overflow:
	msg->overflow = true;
	return &msg->scratch;
}

static void dump_empty(struct devexcl_page_sink *sink, unsigned long addr,
		       u8 pte_kind, u32 pte_flags)
{
	struct dump_message *msg = container_of(sink, struct dump_message, sink);
	struct devexcl_empty_run *run = msg->run;
	struct nlattr *attr;

	if (run && run->pte_kind == pte_kind && run->pte_flags == pte_flags &&
	    run->addr + (run->npages << PAGE_SHIFT) == addr) {
		run->npages++;
		return;
	}
	dump_sync_records(msg);
	msg->records = NULL;
	sink->next = NULL;
	sink->end = NULL;
	attr = dump_reserve_aligned(msg->skb, DEVEXCL_A_EMPTY_RUN, sizeof(*run));
	if (WARN_ON_ONCE(!attr)) {
		msg->overflow = true;
		return;
	}
	run = nla_data(attr);
	memset(run, 0, sizeof(*run));
	run->addr = addr;
	run->npages = 1;
	run->pte_kind = pte_kind;
	run->pte_flags = pte_flags;
	msg->run = run;
	msg->nr_runs++;
}

/*
 * The message just filled from @from (or the error that ends the dump) to
 * the devexcl_dump tracepoint. The address space is hashed only when the
 * event is on.
 */
static void trace_dump_message(const struct inspect_dump *dump,
			       struct mm_struct *mm, u64 from,
			       const struct dump_message *msg, int ret)
{
	if (!trace_devexcl_dump_enabled())
		return;
	trace_devexcl_dump(pid_nr(dump->pid), devexcl_objid(mm, DEVEXCL_OBJID_MM),
			   from, dump->cursor, dump->end,
			   (dump->cursor - from) >> PAGE_SHIFT, msg->nr_records,
			   msg->nr_runs, ret);
}

static int devexcl_nl_inspect_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	struct inspect_dump *dump = (struct inspect_dump *)cb->ctx;
	struct dump_message msg = {
		.sink = { .record = dump_record, .empty = dump_empty },
		.skb = skb,
	};
	unsigned long total = 0;
	struct mm_struct *mm;
	void *hdr;
	int ret = 0;
	u64 from;

	if (!dump->started) {
		ret = inspect_dump_begin(dump, cb);
		if (ret)
			return ret;
	}
	if (dump->cursor >= dump->end)
		return 0;
	from = dump->cursor;
	msg.sink.runs = dump->flags & DEVEXCL_INSPECT_EMPTY_RUNS;
	/* The target again, with the rights checked again: nothing is held between callbacks. */
	mm = devexcl_get_pid_mm(dump->pid);
	if (IS_ERR(mm)) {
		NL_SET_ERR_MSG(cb->extack, "the process is gone or no longer inspectable");
		trace_dump_message(dump, NULL, from, &msg, PTR_ERR(mm));
		return PTR_ERR(mm);
	}

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &devexcl_genl_family, NLM_F_MULTI, DEVEXCL_CMD_INSPECT);
	if (!hdr) {
		ret = -EMSGSIZE;
		goto out;
	}
	if (mmap_read_lock_killable(mm)) {
		genlmsg_cancel(skb, hdr);
		ret = -EINTR;
		goto out;
	}
	/* Records filled in place, in chunks, as many as fit this skb. */
	while (dump->cursor < dump->end) {
		/* Kept for the cursor: an attribute, and a pad where u64s need one. */
		long room = skb_tailroom(skb) - 2 * nla_total_size(sizeof(u64));
		unsigned long left = (dump->end - dump->cursor) >> PAGE_SHIFT;
		unsigned long n = min3(room > DEVEXCL_DUMP_CHUNK_OVERHEAD ?
				       (room - DEVEXCL_DUMP_CHUNK_OVERHEAD) /
				       sizeof(struct devexcl_page_info) : 0,
				       (unsigned long)DEVEXCL_INSPECT_CHUNK, left);

		if (msg.sink.runs) {
			/* Else runs could walk a sparse GiB in one callback. */
			n = min(n, DEVEXCL_DUMP_MAX_PAGES - total);
			if (total && n < min(left, DEVEXCL_DUMP_MIN_CHUNK))
				break;
		}
		if (!n)
			break;
		ret = devexcl_inspect_pages(dump->buf, mm, dump->cursor, n,
					    dump->flags & DEVEXCL_INSPECT_WALK_RMAP,
					    dump->show_pfn, &msg.sink);
		if (ret)
			break;
		dump_sync_records(&msg);
		dump->cursor += n << PAGE_SHIFT;
		total += n;
	}
	mmap_read_unlock(mm);
	if (ret || msg.overflow) {
		genlmsg_cancel(skb, hdr);
		ret = ret ?: -EMSGSIZE;
	} else if (!total ||
		   nla_put_u64_64bit(skb, DEVEXCL_A_CURSOR, dump->cursor,
				     DEVEXCL_A_PAD)) {
		/* A 64 KiB skb has room for a chunk and the cursor: cannot happen. */
		genlmsg_cancel(skb, hdr);
		ret = -EMSGSIZE;
	} else {
		genlmsg_end(skb, hdr);
		devexcl_stat_add(DEVEXCL_STAT_DUMP_RECORDS, total);
		ret = skb->len;
	}
out:
	trace_dump_message(dump, mm, from, &msg, ret);
	mmput(mm);
	return ret;
}

static int devexcl_nl_inspect_done(struct netlink_callback *cb)
{
	struct inspect_dump *dump = (struct inspect_dump *)cb->ctx;

	put_pid(dump->pid);
	devexcl_inspect_buf_free(dump->buf);
	return 0;
}

/* Not const: 6.1's nla_policy points to a mutable netlink_range_validation. */
static struct netlink_range_validation devexcl_pid_range = {
	.min = 1,
	.max = INT_MAX,
};

static const struct nla_policy devexcl_nl_policy[DEVEXCL_A_MAX + 1] = {
	[DEVEXCL_A_FILTER_CTX_ID] = { .type = NLA_U64 },
	[DEVEXCL_A_FILTER_PID] = NLA_POLICY_FULL_RANGE(NLA_U32, &devexcl_pid_range),
	[DEVEXCL_A_PID] = NLA_POLICY_FULL_RANGE(NLA_U32, &devexcl_pid_range),
	[DEVEXCL_A_START] = { .type = NLA_U64 },
	[DEVEXCL_A_END] = { .type = NLA_U64 },
	[DEVEXCL_A_CURSOR] = { .type = NLA_U64 },
	/* One mask for both users: INSPECT_VMA refuses the page flags itself. */
	[DEVEXCL_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, DEVEXCL_INSPECT_WALK_RMAP |
					    DEVEXCL_INSPECT_EMPTY_RUNS),
	[DEVEXCL_A_ADDR] = { .type = NLA_U64 },
};

static const struct genl_ops devexcl_genl_ops[] = {
	{
		.cmd = DEVEXCL_CMD_SUBSCRIBE,
		.doit = devexcl_nl_subscribe,
		.policy = devexcl_nl_policy,
		.maxattr = DEVEXCL_A_MAX,
	},
	{
		.cmd = DEVEXCL_CMD_UNSUBSCRIBE,
		.doit = devexcl_nl_unsubscribe,
		.policy = devexcl_nl_policy,
		.maxattr = DEVEXCL_A_MAX,
	},
	{
		.cmd = DEVEXCL_CMD_INSPECT,
		.start = devexcl_nl_inspect_start,
		.dumpit = devexcl_nl_inspect_dumpit,
		.done = devexcl_nl_inspect_done,
		.policy = devexcl_nl_policy,
		.maxattr = DEVEXCL_A_MAX,
	},
	{
		.cmd = DEVEXCL_CMD_GET_STATS,
		.doit = devexcl_nl_get_stats,
		.policy = devexcl_nl_policy,
		.maxattr = DEVEXCL_A_MAX,
	},
	{
		.cmd = DEVEXCL_CMD_INSPECT_VMA,
		.doit = devexcl_nl_inspect_vma,
		.policy = devexcl_nl_policy,
		.maxattr = DEVEXCL_A_MAX,
	},
};

static struct genl_family devexcl_genl_family __ro_after_init = {
	.name = DEVEXCL_GENL_NAME,
	.version = DEVEXCL_GENL_VERSION,
	.maxattr = DEVEXCL_A_MAX,
	.ops = devexcl_genl_ops,
	.n_ops = ARRAY_SIZE(devexcl_genl_ops),
	.module = THIS_MODULE,
	/* Subscribers have their own lock and each dump its own state: no genl_mutex. */
	.parallel_ops = true,
};

/* A closed socket stops being a subscriber. */
static int devexcl_netlink_release(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct subscriber *sub, *next;

	/* Every generic netlink socket's close comes here: be quick when idle. */
	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !atomic_read(&devexcl_nr_subscribers))
		return NOTIFY_DONE;
	mutex_lock(&devexcl_subscribers_lock);
	list_for_each_entry_safe(sub, next, &devexcl_subscribers, node)
		if (sub->portid == n->portid && net_eq(sub->net, n->net) &&
		    sock_flag(sub->sk, SOCK_DEAD))
			remove_subscriber(sub);
	mutex_unlock(&devexcl_subscribers_lock);
	return NOTIFY_DONE;
}

static struct notifier_block devexcl_netlink_notifier = {
	.notifier_call = devexcl_netlink_release,
};

int devexcl_netlink_init(void)
{
	int ret;

	devexcl_ring = kvcalloc(DEVEXCL_MAX_PENDING, sizeof(*devexcl_ring),
				GFP_KERNEL);
	if (!devexcl_ring)
		return -ENOMEM;
	ret = netlink_register_notifier(&devexcl_netlink_notifier);
	if (ret)
		goto out_ring;
	ret = genl_register_family(&devexcl_genl_family);
	if (ret)
		goto out_notifier;
	return 0;
out_notifier:
	netlink_unregister_notifier(&devexcl_netlink_notifier);
out_ring:
	kvfree(devexcl_ring);
	return ret;
}

void devexcl_netlink_exit(void)
{
	struct subscriber *sub, *next;

	/*
	 * Every context is closed (module refcount): no new events. Send the
	 * last while the family and its subscribers are still there.
	 */
	do {
		flush_delayed_work(&devexcl_event_work);
	} while (READ_ONCE(devexcl_ring_head) != READ_ONCE(devexcl_ring_tail));
	cancel_delayed_work_sync(&devexcl_event_work);
	/* Waits for requests in flight: no subscription can be added after. */
	genl_unregister_family(&devexcl_genl_family);
	netlink_unregister_notifier(&devexcl_netlink_notifier);
	mutex_lock(&devexcl_subscribers_lock);
	list_for_each_entry_safe(sub, next, &devexcl_subscribers, node)
		remove_subscriber(sub);
	mutex_unlock(&devexcl_subscribers_lock);
	kvfree(devexcl_ring);
}
