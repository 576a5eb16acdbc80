//! The allocator, and handing memory back between the passes of a large scan.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;

/// Decoding allocates many small strings and maps on every core; glibc malloc spent a
/// quarter of `extract -A` in malloc/free.
#[global_allocator]
static ALLOCATOR: LargeBlocksOnHugePages = LargeBlocksOnHugePages;

/// Blocks at least this large hold a whole aligned huge page, whatever their alignment.
const LARGE_BLOCK: usize = 4 << 20;
/// The transparent huge page size of x86-64 and of arm64 with 4 KiB pages.
const HUGE_PAGE: usize = 2 << 20;

/// mimalloc, with the large blocks (a scan's sort slots, its key lists, its sorted result)
/// backed by transparent huge pages and everything else by 4 KiB pages.
///
/// A scan fills these blocks front to back once, so with 4 KiB pages each page of them is a
/// page fault, and on a VM a first touch is dear: `ls` on 2 GiB took 43k faults. Advised
/// blocks take one fault per 2 MiB: 26k faults, `ls` 531 → 481 ms (medians of 9 rotating
/// runs with the Go lister; benches/README.md round 16). Huge pages for the
/// whole heap (mimalloc's own) save more, but they hold partly used 2 MiB pages: RssAnon
/// 165 → 234 MB, over the 200 MB bound. Dense blocks cost no more memory on huge pages.
struct LargeBlocksOnHugePages;

/// The alignment mimalloc gives every block of at least that size (`MI_MAX_ALIGN_SIZE`).
const PLAIN_ALIGN: usize = 16;

/// Whether a block of `size` bytes aligned to `align` can come from `mi_malloc`, which
/// aligns every block of 16 bytes or more to 16, and smaller ones to their size class (as
/// the standard library's system allocator reasons). The `mimalloc` crate asks for every
/// block with `mi_malloc_aligned`, whose general path takes about twice the instructions
/// for blocks over 1 KiB: 1–5% of writing an object's YAML (callgrind, 2 GiB benchmark
/// snapshot, by kind; benches/README.md, round 31).
fn plainly_aligned(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

/// The whole huge pages inside `len` bytes at `addr`, as (start, len).
fn huge_pages_within(addr: usize, len: usize) -> Option<(usize, usize)> {
    if len < LARGE_BLOCK {
        return None;
    }
    let start = addr.checked_add(HUGE_PAGE - 1)? & !(HUGE_PAGE - 1);
    let end = addr.checked_add(len)? & !(HUGE_PAGE - 1);
    (end > start).then(|| (start, end - start))
}

/// Advise (or stop advising) transparent huge pages for the whole huge pages of a block.
/// Only advice: a refusal (no THP in this kernel) changes nothing but the speed.
#[cfg(target_os = "linux")]
fn advise(block: *mut u8, len: usize, huge: bool) {
    if block.is_null() {
        return;
    }
    if let Some((start, len)) = huge_pages_within(block as usize, len) {
        let advice = if huge { libc::MADV_HUGEPAGE } else { libc::MADV_NOHUGEPAGE };
        // SAFETY: the range lies inside a block the allocator owns, and MADV_HUGEPAGE and
        // MADV_NOHUGEPAGE only set how its pages are backed; its contents are unchanged.
        #[allow(unsafe_code)]
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, advice);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_block: *mut u8, _len: usize, _huge: bool) {}

// SAFETY: every method hands the request to mimalloc unchanged and returns its answer; the
// advice given around it does not touch the blocks' contents. A freed block stops being
// advised first, so that mimalloc's small objects later placed there stay on 4 KiB pages.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for LargeBlocksOnHugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = if plainly_aligned(layout.align(), layout.size()) {
            unsafe { libmimalloc_sys::mi_malloc(layout.size()).cast() }
        } else {
            unsafe { MiMalloc.alloc(layout) }
        };
        advise(block, layout.size(), true);
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let block = if plainly_aligned(layout.align(), layout.size()) {
            unsafe { libmimalloc_sys::mi_zalloc(layout.size()).cast() }
        } else {
            unsafe { MiMalloc.alloc_zeroed(layout) }
        };
        advise(block, layout.size(), true);
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        advise(block, layout.size(), false);
        unsafe { MiMalloc.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        advise(block, layout.size(), false);
        let moved = if plainly_aligned(layout.align(), new_size) {
            unsafe { libmimalloc_sys::mi_realloc(block.cast(), new_size).cast() }
        } else {
            unsafe { MiMalloc.realloc(block, layout, new_size) }
        };
        advise(moved, new_size, true);
        moved
    }
}

/// Keep transparent huge pages to the advised blocks. mimalloc is built with `no_thp`, so
/// it does not advise its own segments, and where the system gives huge pages only to
/// advised ranges (`madvise` mode, the usual default) nothing else gets them. In `always`
/// mode the whole heap would get them, and RssAnon the partly used pages: Linux 6.18 can
/// turn them off except where advised; on older kernels, in that mode, they are turned off
/// for the process altogether (no huge pages for the large blocks either). Only speed and
/// memory depend on it, so a refusal is ignored.
#[cfg(target_os = "linux")]
pub fn keep_huge_pages_to_advised_blocks() {
    const PR_THP_DISABLE_EXCEPT_ADVISED: libc::c_ulong = 1 << 1;
    // SAFETY: prctl with integer arguments only; it changes no memory of this process.
    #[allow(unsafe_code)]
    let except_advised =
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, PR_THP_DISABLE_EXCEPT_ADVISED, 0, 0) };
    if except_advised == 0 {
        return;
    }
    let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if mode.contains("[always]") {
        // SAFETY: as above.
        #[allow(unsafe_code)]
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0, 0, 0);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn keep_huge_pages_to_advised_blocks() {}

/// Hand the memory freed so far back to the system now, on the calling thread and on every
/// thread of the current rayon pool. Called before each pass of a scan too large for one:
/// each pass frees what the previous one built, and mimalloc returns freed memory only
/// after a delay, so the next pass would otherwise start while most of it is still held.
/// Measured on the 8 GiB snapshot, `ls` in 4 passes of 550k records: 256 MB of anonymous
/// memory at the peak without this, 175 MB with it.
///
/// Every thread, because mimalloc keeps a heap per thread and `mi_collect` purges the
/// caller's: the scan's sort slots and runs are allocated and freed by the pool's workers.
/// Collecting on the calling thread alone left them held while `extract` processed the
/// pass's objects: on 8 GiB, `extract -A -o /dev/null` peaked at 195 MB of anonymous
/// memory and `-o DIR` at 199 MB; with every worker collecting, before and after each
/// pass's scan, 148 and 166 MB (benches/README.md, round 22).
pub fn release_freed_memory() {
    collect_this_thread();
    rayon::broadcast(|_| collect_this_thread());
}

fn collect_this_thread() {
    // SAFETY: `mi_collect` takes no pointers; it only frees and purges memory mimalloc
    // already knows is unused, and may be called from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_huge_pages_inside_a_large_block_are_advised() {
        const MB: usize = 1 << 20;
        // Too small to be worth a system call, even when it holds a whole huge page.
        assert_eq!(huge_pages_within(2 * MB, 2 * MB), None);
        // Aligned: every huge page of it.
        assert_eq!(huge_pages_within(4 * MB, 6 * MB), Some((4 * MB, 6 * MB)));
        // Unaligned at both ends: the pages wholly inside.
        assert_eq!(huge_pages_within(2 * MB + 16, 4 * MB), Some((4 * MB, 2 * MB)));
        assert_eq!(huge_pages_within(3 * MB, 5 * MB), Some((4 * MB, 4 * MB)));
        // A range past the top of the address space is not advised, rather than wrapped.
        assert_eq!(huge_pages_within(usize::MAX - 5 * MB, 6 * MB), None);
    }

    /// Every block comes back aligned as asked, from `mi_malloc` or the aligned path,
    /// zeroed where asked, and keeps its contents and alignment when it grows or shrinks.
    #[test]
    fn blocks_are_aligned_as_asked() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 15, 16, 17, 100, 1024, 1500, 40_000, 5 << 20] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a layout of non-zero size; every block is freed with its layout.
                #[allow(unsafe_code)]
                unsafe {
                    let zeroed = std::alloc::alloc_zeroed(layout);
                    assert!(!zeroed.is_null() && (zeroed as usize).is_multiple_of(align), "{size} {align}");
                    assert!(std::slice::from_raw_parts(zeroed, size).iter().all(|&b| b == 0));
                    std::alloc::dealloc(zeroed, layout);
                    for new_size in [size / 2 + 1, size * 3] {
                        let block = std::alloc::alloc(layout);
                        assert!(!block.is_null() && (block as usize).is_multiple_of(align), "{size} {align}");
                        block.write_bytes(0xa5, size);
                        let moved = std::alloc::realloc(block, layout, new_size);
                        assert!(
                            !moved.is_null() && (moved as usize).is_multiple_of(align),
                            "{size} → {new_size} {align}"
                        );
                        let kept = size.min(new_size);
                        assert!(std::slice::from_raw_parts(moved, kept).iter().all(|&b| b == 0xa5));
                        std::alloc::dealloc(moved, Layout::from_size_align(new_size, align).unwrap());
                    }
                }
            }
        }
    }

    /// It returns, whether called from a pool's worker (as `extract` does, inside its
    /// pool) or from outside any pool (the global one's workers are then reached), and
    /// blocks freed on a worker stay usable memory for the next allocations. How much it
    /// hands back is measured by the benchmark, not asserted here.
    #[test]
    fn release_returns_inside_and_outside_a_pool() {
        release_freed_memory();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let sums: Vec<u64> = pool.install(|| {
            use rayon::prelude::*;
            let freed: Vec<Vec<u64>> = (0..64u64).into_par_iter().map(|i| vec![i; 1 << 16]).collect();
            drop(freed);
            release_freed_memory();
            (0..64u64).into_par_iter().map(|i| vec![i; 1 << 16].iter().sum()).collect()
        });
        assert_eq!(sums, (0..64u64).map(|i| i << 16).collect::<Vec<_>>());
    }

    #[test]
    fn large_blocks_keep_their_contents_through_realloc() {
        let mut block: Vec<u64> = (0..(LARGE_BLOCK as u64 / 8 + 1000)).collect();
        block.extend(0..(LARGE_BLOCK as u64 / 4));
        block.shrink_to_fit();
        assert_eq!(block[LARGE_BLOCK / 8 + 999], LARGE_BLOCK as u64 / 8 + 999);
        assert_eq!(block.last().copied(), Some(LARGE_BLOCK as u64 / 4 - 1));
    }
}
