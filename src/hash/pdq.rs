//! STUB (replaced by the real port)
use super::HashValue;
pub const MIN_HASHABLE_DIM: usize = 5;
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dihedral {
    Orig,
    Rot90,
    Rot180,
    Rot270,
    FlipX,
    FlipY,
    FlipPlus,
    FlipMinus,
}
impl Dihedral {
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Orig,
        Dihedral::Rot90,
        Dihedral::Rot180,
        Dihedral::Rot270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus,
        Dihedral::FlipMinus,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Dihedral::Orig => "orig",
            Dihedral::Rot90 => "rot90",
            Dihedral::Rot180 => "rot180",
            Dihedral::Rot270 => "rot270",
            Dihedral::FlipX => "flipx",
            Dihedral::FlipY => "flipy",
            Dihedral::FlipPlus => "flipp",
            Dihedral::FlipMinus => "flipm",
        }
    }
    pub fn inverse(self) -> Dihedral {
        match self {
            Dihedral::Rot90 => Dihedral::Rot270,
            Dihedral::Rot270 => Dihedral::Rot90,
            d => d,
        }
    }
}
pub struct PdqFeatures {
    q: u8,
}
impl PdqFeatures {
    pub fn from_rgb(_w: usize, _h: usize, _rgb: &[u8]) -> PdqFeatures {
        PdqFeatures { q: 100 }
    }
    pub fn from_image(img: &image::RgbImage) -> PdqFeatures {
        Self::from_rgb(img.width() as usize, img.height() as usize, img.as_raw())
    }
    pub fn quality(&self) -> u8 {
        self.q
    }
    pub fn hash(&self) -> HashValue {
        self.dihedral(Dihedral::Orig)
    }
    pub fn dihedral(&self, _d: Dihedral) -> HashValue {
        HashValue::from_bytes(vec![0u8; 32])
    }
}
