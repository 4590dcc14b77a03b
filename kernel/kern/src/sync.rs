//! [`IrqLock`]: mutual exclusion on one CPU by disabling interrupts while a guard lives.
//!
//! Mach_R runs on one CPU, so masking interrupts is enough to exclude the only other
//! code that could run: interrupt handlers. Taking a lock that is already held can only
//! mean re-entry from a handler, which is a kernel bug; it panics instead of spinning.

use crate::arch::cpu;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// A value guarded by interrupt masking.
pub struct IrqLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access to `value` is serialised by `locked` with interrupts disabled on the only CPU.
unsafe impl<T: Send> Sync for IrqLock<T> {}

impl<T> IrqLock<T> {
    /// A new unlocked value.
    pub const fn new(value: T) -> Self {
        IrqLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Disables interrupts and takes the lock.
    pub fn lock(&self) -> IrqGuard<'_, T> {
        let were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        if self.locked.swap(true, Ordering::Acquire) {
            panic!("IrqLock re-entered (lock taken in an interrupt handler while held)");
        }
        IrqGuard {
            lock: self,
            were_enabled,
        }
    }
}

/// Access to the value; dropping it unlocks and restores the interrupt flag.
pub struct IrqGuard<'a, T> {
    lock: &'a IrqLock<T>,
    were_enabled: bool,
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive access.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive access.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
        if self.were_enabled {
            cpu::enable_interrupts();
        }
    }
}
