//! Writes JSON numbers into a byte buffer, without the formatting machinery
//! (`format!`) per record. The Nexmark query plugins include this file
//! (`#[path = "../../nexmark-common/json_out.rs"]`).

/// Appends `value` in decimal.
pub fn push_int(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    push_uint(out, value.unsigned_abs());
}

/// Appends `value` in decimal.
pub fn push_uint(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `value` (below 1000) as three digits, zeros first.
pub fn push_three_digits(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&[b'0' + (value / 100) as u8, b'0' + (value / 10 % 10) as u8, b'0' + (value % 10) as u8]);
}
