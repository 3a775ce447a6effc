//! STUB: normalisation of the algorithm labels that foreign lists use (being written).

use crate::hash::Algorithm;

/// The algorithm a source's label stands for, or why it is not one mediascreen computes.
#[allow(dead_code)]
pub(super) fn algorithm_from_label(label: &str) -> Result<Algorithm, String> {
    label.parse().map_err(|_| format!("unsupported algorithm {label:?}"))
}
