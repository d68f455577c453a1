// SPDX-License-Identifier: GPL-2.0
/*
 * VMA inspection: a VMA's bounds, flags, anon_vma_chain and per-VMA lock,
 * by ioctl (DEVEXCL_IOC_INSPECT_VMA) and by netlink
 * (DEVEXCL_CMD_INSPECT_VMA), which share one reading of the VMA.
 *
 * The chain is read under the mmap_lock, which keeps it stable, and the
 * root anon_vma's rwsem, which keeps the counters stable. Without the
 * mmap_lock (DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) only RCU holds the VMA, the
 * way lock_vma_under_rcu() looks it up: that is what lets a VMA be seen
 * while a writer holds the mmap_lock, in the middle of an mprotect.
 */
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/genetlink.h>

#include "compat/anon_vma_lock.h"
#include "compat/vma_lock.h"
#include "devexcl.h"
#include "objid.h"

static void fill_vma_info(struct devexcl_vma_info *info,
			  struct vm_area_struct *vma, struct mm_struct *mm)
{
	info->vm_start = READ_ONCE(vma->vm_start);
	info->vm_end = READ_ONCE(vma->vm_end);
	info->vm_flags = READ_ONCE(vma->vm_flags);
	info->vm_pgoff = READ_ONCE(vma->vm_pgoff);
	info->mm_id = devexcl_objid(mm, DEVEXCL_OBJID_MM);
	info->anon_vma_id = devexcl_objid(READ_ONCE(vma->anon_vma),
					  DEVEXCL_OBJID_ANON_VMA);
	info->vma_lock = devexcl_vma_lock_state(vma, mm);
}

static int inspect_vma_unlocked(struct mm_struct *mm, unsigned long addr,
				struct devexcl_vma_info *info)
{
	struct vm_area_struct *vma;
	int ret = 0;

	rcu_read_lock();
	vma = devexcl_vma_lookup_rcu(mm, addr);
	if (vma)
		fill_vma_info(info, vma, mm);
	else
		ret = -EFAULT;
	rcu_read_unlock();
	return ret;
}

/**
 * devexcl_inspect_vma() - read the VMA of @mm at @addr
 * @mm: the address space, referenced by the caller
 * @addr: an address inside the VMA
 * @flags: DEVEXCL_INSPECT_VMA_*
 * @info: out: the VMA
 * @chain: out: up to @max_chain entries of its anon_vma_chain
 * @max_chain: room in @chain (0 without DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK)
 *
 * Return: entries written to @chain; -EOPNOTSUPP for
 * DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK on a kernel without per-VMA locks;
 * -EFAULT for an address outside any VMA; -EINTR.
 */
long devexcl_inspect_vma(struct mm_struct *mm, unsigned long addr, u64 flags,
			 struct devexcl_vma_info *info,
			 struct devexcl_anon_vma_info *chain,
			 unsigned long max_chain)
{
	struct anon_vma_chain *avc;
	struct vm_area_struct *vma;
	unsigned long n = 0;

	memset(info, 0, sizeof(*info));
	if (flags & DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) {
		if (!DEVEXCL_HAVE_PER_VMA_LOCK)
			return -EOPNOTSUPP;
		return inspect_vma_unlocked(mm, addr, info);
	}
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, addr);
	if (!vma) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	fill_vma_info(info, vma, mm);
	if (vma->anon_vma) {
		devexcl_anon_vma_lock_read(vma->anon_vma);
		list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) {
			struct anon_vma *av = avc->anon_vma;

			if (n < max_chain) {
				chain[n].id = devexcl_objid(av, DEVEXCL_OBJID_ANON_VMA);
				chain[n].root_id = devexcl_objid(av->root,
								 DEVEXCL_OBJID_ANON_VMA);
				chain[n].parent_id = devexcl_objid(av->parent,
								   DEVEXCL_OBJID_ANON_VMA);
				chain[n].num_children = av->num_children;
				chain[n].num_active_vmas = av->num_active_vmas;
				chain[n].refcount = atomic_read(&av->refcount);
				n++;
			}
			info->chain_len++;
		}
		devexcl_anon_vma_unlock_read(vma->anon_vma);
	}
	mmap_read_unlock(mm);
	return n;
}

/**
 * devexcl_ioctl_inspect_vma() - DEVEXCL_IOC_INSPECT_VMA: a VMA and its anon_vma_chain
 * @uarg: struct devexcl_inspect_vma_req
 *
 * Return: 0; EINVAL for bad arguments; ESRCH, EPERM for the pid; EFAULT for
 * an address outside any VMA or a bad pointer; EOPNOTSUPP for
 * DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK without per-VMA locks; EINTR; ENOMEM.
 */
long devexcl_ioctl_inspect_vma(void __user *uarg)
{
	struct devexcl_inspect_vma_req req;
	struct devexcl_anon_vma_info *chain = NULL;
	struct devexcl_vma_info info;
	struct mm_struct *mm;
	long ret;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) ||
	    req.max_chain > DEVEXCL_MAX_RMAP_ENTRIES ||
	    (req.max_chain && !req.chain) ||
	    ((req.flags & DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) && req.max_chain))
		return -EINVAL;
	if (req.addr >= TASK_SIZE_MAX)
		return -EFAULT;
	if (req.max_chain) {
		chain = kvcalloc(req.max_chain, sizeof(*chain), GFP_KERNEL);
		if (!chain)
			return -ENOMEM;
	}
	mm = devexcl_get_target_mm(req.pid);
	if (IS_ERR(mm)) {
		ret = PTR_ERR(mm);
		goto out_free;
	}
	ret = devexcl_inspect_vma(mm, req.addr, req.flags, &info, chain,
				  req.max_chain);
	mmput(mm);
	if (ret < 0)
		goto out_free;
	req.vm_start = info.vm_start;
	req.vm_end = info.vm_end;
	req.vm_flags = info.vm_flags;
	req.vm_pgoff = info.vm_pgoff;
	req.anon_vma_id = info.anon_vma_id;
	req.mm_id = info.mm_id;
	req.chain_len = info.chain_len;
	req.vma_lock = info.vma_lock;
	req.returned = ret;
	ret = 0;
	if (req.returned &&
	    copy_to_user(u64_to_user_ptr(req.chain), chain,
			 req.returned * sizeof(*chain)))
		ret = -EFAULT;
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
out_free:
	kvfree(chain);
	return ret;
}

/**
 * devexcl_nl_inspect_vma() - DEVEXCL_CMD_INSPECT_VMA: the ioctl's answer by netlink
 * @skb: the request
 * @info: its attributes: PID and ADDR, optional FLAGS
 *
 * Replies with DEVEXCL_A_VMA and, with the mmap_lock, DEVEXCL_A_ANON_VMA_CHAIN
 * (at most DEVEXCL_NL_MAX_CHAIN entries). Errors as for the ioctl, each
 * with an extack message.
 *
 * Return: 0 or a negative errno.
 */
int devexcl_nl_inspect_vma(struct sk_buff *skb, struct genl_info *info)
{
	struct devexcl_anon_vma_info *chain = NULL;
	struct nlattr **attrs = info->attrs;
	struct devexcl_vma_info vma;
	struct sk_buff *reply;
	struct mm_struct *mm;
	unsigned long max_chain = 0;
	u64 addr, flags;
	long n;
	void *hdr;
	int ret;

	if (!attrs[DEVEXCL_A_PID] || !attrs[DEVEXCL_A_ADDR]) {
		NL_SET_ERR_MSG(info->extack, "PID and ADDR are required");
		NL_SET_ERR_ATTR_MISS(info->extack, NULL,
				     attrs[DEVEXCL_A_PID] ? DEVEXCL_A_ADDR : DEVEXCL_A_PID);
		return -EINVAL;
	}
	addr = nla_get_u64(attrs[DEVEXCL_A_ADDR]);
	if (addr >= TASK_SIZE_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DEVEXCL_A_ADDR],
				    "ADDR is beyond the user address space");
		return -EFAULT;
	}
	flags = attrs[DEVEXCL_A_FLAGS] ? nla_get_u32(attrs[DEVEXCL_A_FLAGS]) : 0;
	if (flags & ~DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DEVEXCL_A_FLAGS],
				    "unknown DEVEXCL_INSPECT_VMA_* flag");
		return -EINVAL;
	}
	mm = devexcl_get_target_mm(nla_get_u32(attrs[DEVEXCL_A_PID]));
	if (PTR_ERR_OR_ZERO(mm) == -EPERM) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DEVEXCL_A_PID],
				    "no ptrace-level rights over that process");
		return -EPERM;
	} else if (IS_ERR(mm)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DEVEXCL_A_PID],
				    "no such process with an address space");
		return PTR_ERR(mm);
	}
	if (!(flags & DEVEXCL_INSPECT_VMA_NO_MMAP_LOCK)) {
		max_chain = DEVEXCL_NL_MAX_CHAIN;
		chain = kvcalloc(max_chain, sizeof(*chain), GFP_KERNEL);
		if (!chain) {
			ret = -ENOMEM;
			goto out_mm;
		}
	}
	n = devexcl_inspect_vma(mm, addr, flags, &vma, chain, max_chain);
	if (n < 0) {
		ret = n;
		if (n == -EFAULT)
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DEVEXCL_A_ADDR],
					    "no VMA at ADDR");
		else if (n == -EOPNOTSUPP)
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DEVEXCL_A_FLAGS],
					    "this kernel has no per-VMA locks");
		goto out_free;
	}
	ret = -ENOMEM;
	reply = genlmsg_new(nla_total_size_64bit(sizeof(vma)) +
			    nla_total_size_64bit(n * sizeof(*chain)), GFP_KERNEL);
	if (!reply)
		goto out_free;
	hdr = devexcl_genlmsg_put_reply(reply, info, DEVEXCL_CMD_INSPECT_VMA);
	if (!hdr ||
	    nla_put_64bit(reply, DEVEXCL_A_VMA, sizeof(vma), &vma, DEVEXCL_A_PAD) ||
	    (chain && nla_put_64bit(reply, DEVEXCL_A_ANON_VMA_CHAIN,
				    n * sizeof(*chain), chain, DEVEXCL_A_PAD))) {
		nlmsg_free(reply);
		ret = -EMSGSIZE;
		goto out_free;
	}
	genlmsg_end(reply, hdr);
	ret = genlmsg_reply(reply, info);
out_free:
	kvfree(chain);
out_mm:
	mmput(mm);
	return ret;
}
