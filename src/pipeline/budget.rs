//! Admission by memory: each document holds a share of a fixed budget from
//! the moment its bytes are read until the writer has written its bundle.
//!
//! Converting a document needs about [`COST_PER_BYTE`] times its size at
//! peak (tree, mapped resources, JSON value, validator state, output), and
//! finished bundles wait in the writer's channel. Small documents never
//! wait (hundreds fit the budget); large ones take turns, and a document
//! larger than the whole budget runs alone, so memory stays bounded by the
//! budget or by the largest single document, not by threads × sizes.

use std::sync::{Arc, Condvar, Mutex};

/// Working memory charged per byte of input. Measured: a 5 MB markup-dense
/// discharge document peaks at ~42 MB over the process's base (8.4x), a
/// 20 MB one at ~185 MB (9.3x). The allocator keeps freed pages per thread
/// for reuse, so around large documents the worker hands them back
/// ([`release_free_memory`]); without that, eight 5 MB documents on eight
/// threads peaked at 169–186 MB, with it at 82–87 MB. 16 keeps a run of
/// large documents within the budget.
pub const COST_PER_BYTE: u64 = 16;

/// Input size from which a document is large enough that the worker hands
/// the allocator's free pages back before and after converting it.
pub const LARGE_DOC_BYTES: usize = 1 << 20;

/// Return this thread's free allocator pages to the system, and take back
/// the blocks other threads freed for it (a bundle made here and freed by
/// the writer thread). mimalloc otherwise keeps them per thread for reuse,
/// so after a run of large documents each worker would hold pages of its
/// last one and peak RSS would grow with the thread count. Called only
/// around large documents: for small ones the reuse is what keeps the
/// allocator fast.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointers and only acts on the calling
    // thread's mimalloc heap (freeing pages that hold no live block); it is
    // safe to call at any time from any thread, and a no-op when this
    // thread never allocated through mimalloc (a library user with another
    // global allocator).
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// A memory budget shared by the workers.
#[derive(Debug)]
pub struct Budget {
    cap: u64,
    free: Mutex<u64>,
    freed: Condvar,
}

/// A share of the budget, given back when dropped.
#[derive(Debug)]
pub struct Permit {
    budget: Arc<Budget>,
    amount: u64,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: u64) -> Arc<Budget> {
        Arc::new(Budget {
            cap: cap.max(1),
            free: Mutex::new(cap.max(1)),
            freed: Condvar::new(),
        })
    }

    /// Wait for `bytes` of working memory (capped at the whole budget, so a
    /// document larger than the budget waits until it can run alone).
    pub fn acquire(self: &Arc<Self>, bytes: u64) -> Permit {
        let amount = bytes.clamp(1, self.cap);
        // A poisoned lock only means another worker panicked while holding
        // it; the count itself is always consistent.
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free < amount {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= amount;
        Permit {
            budget: Arc::clone(self),
            amount,
        }
    }

    /// Bytes not held by any permit.
    pub fn free(&self) -> u64 {
        *self.free.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut free = self.budget.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += self.amount;
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn permits_return_their_share() {
        let b = Budget::new(100);
        let p = b.acquire(30);
        assert_eq!(b.free(), 70);
        drop(p);
        assert_eq!(b.free(), 100);
        // More than the whole budget is capped at it (the document runs alone).
        let q = b.acquire(500);
        assert_eq!((b.free(), q.amount), (0, 100));
        drop(q);
        assert_eq!(b.free(), 100);
    }

    #[test]
    fn a_large_share_waits_until_enough_is_free() {
        let b = Budget::new(100);
        let small = b.acquire(60);
        let b2 = Arc::clone(&b);
        let waiter = std::thread::spawn(move || {
            let p = b2.acquire(80);
            b2.free() + p.amount
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "80 of 40 free must wait");
        drop(small);
        assert_eq!(waiter.join().unwrap(), 100);
        assert_eq!(b.free(), 100);
    }
}
