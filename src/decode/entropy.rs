//! Whether a Huffman-coded JPEG's entropy-coded data holds every MCU its scans need.
//!
//! zune-jpeg, even in strict mode, treats a marker met inside the picture data (an
//! end-of-image marker appended to a file cut in the middle) as the end of the data and fills
//! the rest of the picture in without a word, so that a cut-off copy of a picture decodes
//! "successfully". libjpeg-turbo warns ("premature end of data segment"); the built-in path
//! needs this check to say the same. It reads the Huffman codes of each scan (no coefficient
//! is computed, no pixel made) and counts the MCUs the data holds: a scan whose data ends
//! before its last MCU, or that holds a code its table lacks, is damage.
//!
//! Sequential and progressive Huffman JPEGs; a progressive scan refining AC coefficients
//! (whose length depends on the coefficients decoded before) is not checked, nor are
//! arithmetic-coded and lossless JPEGs, which the built-in decoder does not read anyway.

/// A Huffman table, as the canonical code lengths define it.
#[derive(Clone)]
struct Table {
    /// The largest code of each length (1-16), or -1 for none.
    max_code: [i32; 17],
    /// For each length, the symbol index of its first code, minus that code.
    offset: [i32; 17],
    symbols: Vec<u8>,
    /// The codes of up to [`FAST_BITS`] bits, by the next [`FAST_BITS`] bits of data: the
    /// code's length and symbol (`length << 8 | symbol`), 0 for a longer code.
    fast: Vec<u16>,
}

/// Bits looked up at once: most codes of a photograph's tables are this short.
const FAST_BITS: u32 = 9;

impl Table {
    fn new(counts: &[u8], symbols: &[u8]) -> Table {
        let (mut max_code, mut offset) = ([-1i32; 17], [0i32; 17]);
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let (mut code, mut index) = (0i32, 0i32);
        for length in 1..=16 {
            let count = i32::from(counts[length - 1]);
            offset[length] = index - code;
            if length as u32 <= FAST_BITS {
                for (n, i) in (code..code + count).zip(index..) {
                    let Some(&symbol) = symbols.get(i as usize) else { break };
                    let spread = FAST_BITS - length as u32;
                    let first = (n as usize) << spread;
                    let entry = (length as u16) << 8 | u16::from(symbol);
                    if let Some(slots) = fast.get_mut(first..first + (1 << spread)) {
                        slots.fill(entry);
                    }
                }
            }
            code += count;
            index += count;
            if count > 0 {
                max_code[length] = code - 1;
            }
            code <<= 1;
        }
        Table { max_code, offset, symbols: symbols.to_vec(), fast }
    }
}

/// Why the entropy-coded data could not be read on.
enum Stop {
    /// A marker or the end of the file where more data was due.
    Ended,
    /// A code that the table does not hold.
    BadCode,
}

/// Reads the bits of one scan's entropy-coded data: stuffed bytes (FF 00) are data, any
/// other marker ends it.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    buffer: u64,
    count: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], at: usize) -> Bits<'a> {
        Bits { data, at, buffer: 0, count: 0, at_marker: false }
    }

    fn fill(&mut self) {
        while self.count <= 56 && !self.at_marker {
            let byte = match self.data.get(self.at) {
                None => {
                    self.at_marker = true;
                    return;
                }
                Some(&0xFF) => match self.data.get(self.at + 1) {
                    Some(0x00) => {
                        self.at += 2;
                        0xFF
                    }
                    _ => {
                        self.at_marker = true;
                        return;
                    }
                },
                Some(&byte) => {
                    self.at += 1;
                    byte
                }
            };
            self.buffer |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    fn skip(&mut self, bits: u32) -> Result<(), Stop> {
        if bits == 0 {
            return Ok(());
        }
        self.fill();
        if bits > self.count {
            return Err(Stop::Ended);
        }
        self.buffer = if bits >= 64 { 0 } else { self.buffer << bits };
        self.count -= bits;
        Ok(())
    }

    fn read(&mut self, bits: u32) -> Result<u32, Stop> {
        self.fill();
        if bits > self.count {
            return Err(Stop::Ended);
        }
        let value = if bits == 0 { 0 } else { (self.buffer >> (64 - bits)) as u32 };
        self.skip(bits)?;
        Ok(value)
    }

    fn symbol(&mut self, table: &Table) -> Result<u8, Stop> {
        self.fill();
        let entry = table.fast[(self.buffer >> (64 - FAST_BITS)) as usize];
        if entry != 0 {
            let length = u32::from(entry >> 8);
            if length > self.count {
                return Err(Stop::Ended);
            }
            self.skip(length)?;
            return Ok(entry as u8);
        }
        let peek = (self.buffer >> 48) as i32;
        for length in 1..=16u32 {
            let code = peek >> (16 - length);
            if code <= table.max_code[length as usize] {
                if length > self.count {
                    return Err(Stop::Ended);
                }
                self.skip(length)?;
                let index = (table.offset[length as usize] + code) as usize;
                return table.symbols.get(index).copied().ok_or(Stop::BadCode);
            }
        }
        Err(if self.count < 16 { Stop::Ended } else { Stop::BadCode })
    }

    /// Past a restart marker (RST0-7), after the padding bits; false if there is none.
    fn restart(&mut self) -> bool {
        self.buffer = 0;
        self.count = 0;
        self.at_marker = false;
        let found = matches!(
            (self.data.get(self.at), self.data.get(self.at + 1)),
            (Some(0xFF), Some(0xD0..=0xD7))
        );
        self.at += 2;
        found
    }
}

/// One component of a frame.
#[derive(Clone, Copy)]
struct Component {
    id: u8,
    h: u32,
    v: u32,
}

/// A frame header: its kind (SOF0-SOF2), size and components.
struct Frame {
    progressive: bool,
    width: u32,
    height: u32,
    components: Vec<Component>,
}

impl Frame {
    fn parse(marker: u8, body: &[u8]) -> Option<Frame> {
        let height = u32::from(u16::from_be_bytes([*body.get(1)?, *body.get(2)?]));
        let width = u32::from(u16::from_be_bytes([*body.get(3)?, *body.get(4)?]));
        let count = usize::from(*body.get(5)?);
        let components = body
            .get(6..6 + 3 * count)?
            .chunks_exact(3)
            .map(|c| Component { id: c[0], h: u32::from(c[1] >> 4), v: u32::from(c[1] & 15) })
            .collect::<Vec<_>>();
        let sane = components.iter().all(|c| (1..=4).contains(&c.h) && (1..=4).contains(&c.v));
        (width > 0 && height > 0 && sane && count > 0).then_some(Frame {
            progressive: marker == 0xC2,
            width,
            height,
            components,
        })
    }

    fn max(&self) -> (u32, u32) {
        let h = self.components.iter().map(|c| c.h).max().unwrap_or(1);
        let v = self.components.iter().map(|c| c.v).max().unwrap_or(1);
        (h, v)
    }

    /// MCUs of an interleaved scan.
    fn mcus(&self) -> u64 {
        let (h, v) = self.max();
        u64::from(self.width.div_ceil(8 * h)) * u64::from(self.height.div_ceil(8 * v))
    }

    /// Blocks of `component` in a scan of it alone.
    fn blocks(&self, component: Component) -> u64 {
        let (h, v) = self.max();
        let columns = (u64::from(self.width) * u64::from(component.h)).div_ceil(u64::from(h));
        let rows = (u64::from(self.height) * u64::from(component.v)).div_ceil(u64::from(v));
        columns.div_ceil(8) * rows.div_ceil(8)
    }
}

/// Why the picture data of the Huffman-coded JPEG in `bytes` is cut short or corrupt, if it
/// is; `None` also for what this does not check (see the module's documentation).
pub(crate) fn entropy_damage(bytes: &[u8]) -> Option<String> {
    let mut tables: [[Option<Table>; 4]; 2] = Default::default();
    let (mut frame, mut restart_interval) = (None::<Frame>, 0u32);
    let mut at = 2; // after SOI
    loop {
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return None;
        };
        at += 2;
        match marker {
            0xD9 => return None,
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        let body = bytes.get(at + 2..at + length.max(2))?;
        at += length;
        match marker {
            0xC0..=0xC2 if frame.is_none() => frame = Some(Frame::parse(marker, body)?),
            // Arithmetic-coded, lossless or hierarchical: not checked here.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => {
                let mut rest = body;
                while let [class_id, ..] = rest {
                    let (class, id) = (usize::from(class_id >> 4), usize::from(class_id & 15));
                    let counts = rest.get(1..17)?;
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let symbols = rest.get(17..17 + total)?;
                    *tables.get_mut(class)?.get_mut(id)? = Some(Table::new(counts, symbols));
                    rest = &rest[17 + total..];
                }
            }
            0xDD => {
                restart_interval = u32::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]))
            }
            0xDA => {
                let frame = frame.as_ref()?;
                let scan = Scan::parse(body, frame, &tables)?;
                let mut bits = Bits::new(bytes, at);
                let result = scan.check(frame, &mut bits, restart_interval);
                if let Err((done, total, stop)) = result {
                    return Some(match stop {
                        Stop::Ended => format!(
                            "truncated JPEG: its picture data ends after {done} of the {total} \
                             MCUs of a scan"
                        ),
                        Stop::BadCode => format!(
                            "corrupt JPEG data: a code its Huffman table lacks at MCU {done} of \
                             {total}"
                        ),
                    });
                }
                // On to the marker that ended the data.
                at = bits.at;
                while at + 1 < bytes.len()
                    && !(bytes[at] == 0xFF
                        && bytes[at + 1] != 0
                        && !(0xD0..=0xD7).contains(&bytes[at + 1]))
                {
                    at += 1;
                }
            }
            _ => {}
        }
    }
}

/// One scan: its components with their tables, and its spectral selection.
struct Scan<'t> {
    components: Vec<(Component, Option<&'t Table>, Option<&'t Table>)>,
    start: u8,
    end: u8,
    refining: bool,
}

impl<'t> Scan<'t> {
    fn parse(body: &[u8], frame: &Frame, tables: &'t [[Option<Table>; 4]; 2]) -> Option<Scan<'t>> {
        let count = usize::from(*body.first()?);
        let mut components = Vec::with_capacity(count);
        for selector in body.get(1..1 + 2 * count)?.chunks_exact(2) {
            let component = *frame.components.iter().find(|c| c.id == selector[0])?;
            let dc = tables[0].get(usize::from(selector[1] >> 4))?.as_ref();
            let ac = tables[1].get(usize::from(selector[1] & 15))?.as_ref();
            components.push((component, dc, ac));
        }
        let tail = body.get(1 + 2 * count..1 + 2 * count + 3)?;
        Some(Scan { components, start: tail[0], end: tail[1], refining: tail[2] >> 4 != 0 })
    }

    /// Reads the scan's MCUs; `Err` with those read, those due and why it stopped.
    fn check(&self, frame: &Frame, bits: &mut Bits, interval: u32) -> Result<(), (u64, u64, Stop)> {
        let interleaved = self.components.len() > 1;
        let total = if interleaved { frame.mcus() } else { frame.blocks(self.components[0].0) };
        // A progressive scan refining AC coefficients reads a bit per nonzero coefficient
        // decoded before: its length cannot be told without them.
        if frame.progressive && self.start > 0 && self.refining {
            return Ok(());
        }
        let mut end_of_bands = 0u32;
        for mcu in 0..total {
            if interval > 0 && mcu > 0 && mcu % u64::from(interval) == 0 {
                if !bits.restart() {
                    return Err((mcu, total, Stop::Ended));
                }
                end_of_bands = 0;
            }
            for &(component, dc, ac) in &self.components {
                let blocks = if interleaved { component.h * component.v } else { 1 };
                for _ in 0..blocks {
                    self.block(frame, bits, dc, ac, &mut end_of_bands)
                        .map_err(|stop| (mcu, total, stop))?;
                }
            }
        }
        Ok(())
    }

    fn block(
        &self,
        frame: &Frame,
        bits: &mut Bits,
        dc: Option<&Table>,
        ac: Option<&Table>,
        end_of_bands: &mut u32,
    ) -> Result<(), Stop> {
        fn table(table: Option<&Table>) -> Result<&Table, Stop> {
            table.ok_or(Stop::BadCode)
        }
        if !frame.progressive {
            let size = bits.symbol(table(dc)?)?;
            bits.skip(u32::from(size & 31))?;
            let ac = table(ac)?;
            let mut k = 1;
            while k < 64 {
                let symbol = bits.symbol(ac)?;
                let (run, size) = (symbol >> 4, symbol & 15);
                if size == 0 {
                    if run != 15 {
                        break;
                    }
                    k += 16;
                    continue;
                }
                k += usize::from(run);
                bits.skip(u32::from(size))?;
                k += 1;
            }
            return Ok(());
        }
        if self.start == 0 {
            // A DC scan: the first pass codes a difference, a refinement one bit.
            if self.refining {
                return bits.skip(1);
            }
            let size = bits.symbol(table(dc)?)?;
            return bits.skip(u32::from(size & 31));
        }
        // A first AC pass, with runs of blocks that end their band at once.
        if *end_of_bands > 0 {
            *end_of_bands -= 1;
            return Ok(());
        }
        let ac = table(ac)?;
        let mut k = u32::from(self.start);
        while k <= u32::from(self.end) {
            let symbol = bits.symbol(ac)?;
            let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
            if size == 0 {
                if run < 15 {
                    *end_of_bands = (1 << run) - 1 + bits.read(run)?;
                    break;
                }
                k += 16;
                continue;
            }
            k += run;
            bits.skip(size)?;
            k += 1;
        }
        Ok(())
    }
}
