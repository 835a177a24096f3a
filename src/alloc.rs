//! A counting global allocator, so INFO's `used_memory` reports the bytes the server
//! really holds (Redis gets this from its allocator; std's has no such statistic).
//!
//! Each thread keeps a private running sum and publishes it to one shared atomic only
//! when it has drifted by [`FLUSH_BYTES`]: the hot path then costs a thread-local add,
//! not a contended atomic per allocation. `used_memory` is exact to within
//! threads × FLUSH_BYTES.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

const FLUSH_BYTES: isize = 64 * 1024;

static PUBLISHED: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // `const` initialisation: no lazy setup, so touching it can never allocate (which
    // would recurse into the allocator).
    static UNPUBLISHED: Cell<isize> = const { Cell::new(0) };
    /// Allocations made by this thread, for tests that a hot path allocates nothing.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

pub struct CountingAllocator;

/// How many allocations (and reallocations) this thread has made.
pub fn thread_allocations() -> u64 {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

fn count_allocation() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn account(delta: isize) {
    // try_with: during thread teardown the slot may be gone; publish directly then.
    let pending = UNPUBLISHED
        .try_with(|cell| {
            let sum = cell.get() + delta;
            if sum.abs() >= FLUSH_BYTES {
                cell.set(0);
                sum
            } else {
                cell.set(sum);
                0
            }
        })
        .unwrap_or(delta);
    if pending != 0 {
        let total = PUBLISHED.fetch_add(pending, Ordering::Relaxed) + pending;
        PEAK.fetch_max(total.max(0) as usize, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged and only adds bookkeeping that never allocates, so System's guarantees hold.
// Exercised by every test and by `tests::counts_what_is_allocated` below.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; see the impl comment.
        let ptr = unsafe { System.alloc(layout) };
        count_allocation();
        if !ptr.is_null() {
            account(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; see the impl comment.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        count_allocation();
        if !ptr.is_null() {
            account(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; see the impl comment.
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; see the impl comment.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        count_allocation();
        if !new.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Bytes currently allocated through the global allocator (approximate, see above).
pub fn used_memory() -> usize {
    PUBLISHED.load(Ordering::Relaxed).max(0) as usize
}

/// The highest `used_memory` seen.
pub fn peak_memory() -> usize {
    PEAK.load(Ordering::Relaxed).max(used_memory())
}

/// Resident set size from /proc (0 where /proc is missing).
pub fn resident_memory() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static COUNTING: CountingAllocator = CountingAllocator;

    #[test]
    fn counts_what_is_allocated() {
        // The counter is process-wide and other tests allocate and free at the same
        // time: sizes far above what they move at once keep the bounds meaningful.
        const SIZE: usize = 256 << 20;
        const NOISE: usize = 64 << 20;
        let before = used_memory();
        // Zeroed allocations are counted without touching their pages.
        let big: Vec<u8> = vec![0; SIZE];
        let during = used_memory();
        assert!(during + NOISE >= before + SIZE, "{before} -> {during}");
        let mut grown = big;
        grown.reserve_exact(SIZE);
        let grown_to = used_memory();
        assert!(grown_to + NOISE >= during + SIZE, "{during} -> {grown_to}");
        drop(grown);
        assert!(used_memory() < during + NOISE);
        assert!(peak_memory() >= grown_to);
    }

    #[test]
    fn counts_this_threads_allocations() {
        let before = thread_allocations();
        let boxed = std::hint::black_box(Box::new(7u64));
        assert_eq!(thread_allocations(), before + 1);
        drop(boxed);
        assert_eq!(thread_allocations(), before + 1);
    }
}
