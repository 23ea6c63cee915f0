// Shared by every kernel (prepended by gpu.rs): int8 access into u32-packed rows.

// Byte `idx & 3` of `word` (the u32 holding int8 element `idx`), sign-extended.
fn i8_of(word: u32, idx: u32) -> f32 {
    let shift = (idx & 3u) * 8u;
    return f32(bitcast<i32>(word << (24u - shift)) >> 24u);
}
