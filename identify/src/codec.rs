//! Little-endian binary writer and bounds-checked reader for the stored
//! model format.

/// Appends little-endian values to a byte vector.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// The bytes written so far.
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A length or index as `u32`; the caller guarantees it fits (checked
    /// when the model is built).
    pub(crate) fn len(&mut self, v: usize) {
        self.u32(u32::try_from(v).unwrap_or(u32::MAX));
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.buf.extend_from_slice(v);
    }
}

/// Reads little-endian values, failing with a message instead of panicking
/// on truncated input.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn take<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let end = self.pos.checked_add(N).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "truncated while reading {what} at byte {}",
                self.pos
            ));
        };
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take::<1>(what)?[0])
    }
    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(what)?))
    }
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(what)?))
    }
    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(what)?))
    }
    pub(crate) fn f64(&mut self, what: &str) -> Result<f64, String> {
        Ok(f64::from_le_bytes(self.take(what)?))
    }

    /// A `u32` length, refused when fewer than `min_item_bytes × len`
    /// bytes remain (so a corrupt length cannot trigger a huge allocation).
    pub(crate) fn len(&mut self, what: &str, min_item_bytes: usize) -> Result<usize, String> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_item_bytes) > self.remaining() {
            return Err(format!("{what} {n} exceeds the remaining bytes"));
        }
        Ok(n)
    }

    /// A length-prefixed byte string.
    pub(crate) fn bytes(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = usize::try_from(self.u64(what)?).map_err(|_| format!("{what}: too long"))?;
        if n > self.remaining() {
            return Err(format!("{what} of {n} bytes exceeds the remaining bytes"));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A byte string behind a `u32` length.
    pub(crate) fn bytes_u32(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.len(what, 1)?;
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<(), String> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(format!("{} unexpected trailing bytes", self.remaining()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut w = Writer::default();
        w.u8(7);
        w.u16(513);
        w.len(3);
        w.f64(-0.1);
        w.bytes(b"abc");
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u16("b").unwrap(), 513);
        assert_eq!(r.len("c", 1).unwrap(), 3);
        assert_eq!(r.f64("d").unwrap().to_bits(), (-0.1f64).to_bits());
        assert_eq!(r.bytes("e").unwrap(), b"abc");
        r.finish().unwrap();
        let mut r = Reader::new(&w.buf[..5]);
        r.u8("a").unwrap();
        r.u16("b").unwrap();
        assert!(r.u32("c").unwrap_err().contains("truncated"));
        let mut r = Reader::new(&[255, 255, 255, 255]);
        assert!(r.len("count", 8).unwrap_err().contains("exceeds"));
    }
}
