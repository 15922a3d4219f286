//! Growing a buffer that may hold secrets without leaving a copy behind.

use alloc::vec::Vec;

use zeroize::Zeroize;

/// Makes room for `additional` more bytes in `buf`. If `buf` must grow, its
/// contents move to a new allocation and the old one is wiped before it is
/// freed; `Vec`'s own growth would free it as it is, with whatever it held
/// (earlier plaintexts, say) still in it.
pub(crate) fn reserve_wiping(buf: &mut Vec<u8>, additional: usize) {
    if buf.capacity() - buf.len() >= additional {
        return;
    }
    let mut grown = Vec::with_capacity(buf.len().saturating_add(additional));
    grown.extend_from_slice(buf);
    // Wipes the elements and the spare capacity, then empties the vector.
    buf.zeroize();
    *buf = grown;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_only_when_needed_and_keeps_the_contents() {
        let mut buf = Vec::with_capacity(8);
        buf.extend_from_slice(b"secret");
        let before = buf.as_ptr();
        reserve_wiping(&mut buf, 2);
        assert_eq!(buf.as_ptr(), before, "room enough: no new allocation");
        reserve_wiping(&mut buf, 100);
        assert!(buf.capacity() >= 106);
        assert_eq!(buf, b"secret");
    }
}
