//! The tray icon, drawn in code: a key cap (a darker rim around a lighter face) in the state's
//! colour, with an optional white mark (two pause bars, or a dash when no daemon answers).
//!
//! The face colours are exact RGB values that the desktop tests look for in screenshots and in
//! the item's `IconPixmap`: green `#2EA043`, amber `#E3A008`, red `#D1242F`, blue `#1F6FEB`
//! (learning), grey `#8C8C8C`.

use crate::view::{IconLook, Mark, Shade};

/// The icon's width and height in pixels (hosts scale it to their panel).
pub const SIZE: u32 = 32;

/// Samples per pixel along each axis, for smooth edges.
const SUPERSAMPLING: u32 = 4;

type Rgb = [u8; 3];

/// The face and rim colours of a shade.
pub fn colours(shade: Shade) -> (Rgb, Rgb) {
    match shade {
        Shade::Green => ([0x2E, 0xA0, 0x43], [0x1A, 0x6B, 0x2B]),
        Shade::Amber => ([0xE3, 0xA0, 0x08], [0x9A, 0x6B, 0x00]),
        Shade::Red => ([0xD1, 0x24, 0x2F], [0x8B, 0x15, 0x1D]),
        Shade::Blue => ([0x1F, 0x6F, 0xEB], [0x12, 0x43, 0x8F]),
        Shade::Grey => ([0x8C, 0x8C, 0x8C], [0x5A, 0x5A, 0x5A]),
    }
}

const WHITE: Rgb = [0xFF, 0xFF, 0xFF];

/// A rectangle with rounded corners, in pixel coordinates (0..SIZE).
#[derive(Debug, Clone, Copy)]
struct RoundedRect {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
    radius: f32,
}

impl RoundedRect {
    fn contains(&self, x: f32, y: f32) -> bool {
        if x < self.left || x > self.right || y < self.top || y > self.bottom {
            return false;
        }
        // Inside the rectangle: only the corner squares need the distance test.
        let cx = x.clamp(self.left + self.radius, self.right - self.radius);
        let cy = y.clamp(self.top + self.radius, self.bottom - self.radius);
        let (dx, dy) = (x - cx, y - cy);
        dx * dx + dy * dy <= self.radius * self.radius
    }

    /// The share of pixel (px, py) this shape covers, in [0, 1].
    fn coverage(&self, px: u32, py: u32) -> f32 {
        let step = 1.0 / SUPERSAMPLING as f32;
        let mut inside = 0u32;
        for sy in 0..SUPERSAMPLING {
            for sx in 0..SUPERSAMPLING {
                let x = px as f32 + (sx as f32 + 0.5) * step;
                let y = py as f32 + (sy as f32 + 0.5) * step;
                if self.contains(x, y) {
                    inside += 1;
                }
            }
        }
        inside as f32 / (SUPERSAMPLING * SUPERSAMPLING) as f32
    }
}

const fn rect(left: f32, top: f32, right: f32, bottom: f32, radius: f32) -> RoundedRect {
    RoundedRect {
        left,
        top,
        right,
        bottom,
        radius,
    }
}

/// The key cap's body (the rim shows below and around the face).
const BODY: RoundedRect = rect(1.0, 2.0, 31.0, 31.0, 6.0);
/// The key cap's face.
const FACE: RoundedRect = rect(4.0, 3.0, 28.0, 25.0, 4.0);
/// The pause mark's bars.
const PAUSE_BARS: [RoundedRect; 2] = [
    rect(11.0, 8.0, 14.0, 20.0, 0.5),
    rect(18.0, 8.0, 21.0, 20.0, 0.5),
];
/// The "no daemon" dash.
const DASH: RoundedRect = rect(9.0, 12.5, 23.0, 15.5, 1.0);

/// The icon for `look`, as straight (not premultiplied) RGBA rows, `SIZE` × `SIZE`.
pub fn render(look: IconLook) -> Vec<u8> {
    let (face, rim) = colours(look.shade);
    let mut layers: Vec<(RoundedRect, Rgb)> = vec![(BODY, rim), (FACE, face)];
    match look.mark {
        Mark::Plain => {}
        Mark::Pause => layers.extend(PAUSE_BARS.iter().map(|bar| (*bar, WHITE))),
        Mark::Absent => layers.push((DASH, WHITE)),
    }
    let mut rgba = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    for py in 0..SIZE {
        for px in 0..SIZE {
            // Premultiplied "over" compositing, bottom layer first.
            let mut colour = [0f32; 3];
            let mut alpha = 0f32;
            for (shape, rgb) in &layers {
                let a = shape.coverage(px, py);
                if a == 0.0 {
                    continue;
                }
                for (channel, value) in colour.iter_mut().zip(rgb) {
                    *channel = *value as f32 * a + *channel * (1.0 - a);
                }
                alpha = a + alpha * (1.0 - a);
            }
            if alpha > 0.0 {
                for channel in colour {
                    rgba.push((channel / alpha).round().clamp(0.0, 255.0) as u8);
                }
            } else {
                rgba.extend_from_slice(&[0, 0, 0]);
            }
            rgba.push((alpha * 255.0).round() as u8);
        }
    }
    rgba
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(rgba: &[u8], x: u32, y: u32) -> [u8; 4] {
        let i = ((y * SIZE + x) * 4) as usize;
        [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
    }

    #[test]
    fn the_face_has_the_exact_state_colour_and_the_corners_are_clear() {
        for shade in [
            Shade::Green,
            Shade::Amber,
            Shade::Red,
            Shade::Blue,
            Shade::Grey,
        ] {
            let rgba = render(IconLook {
                shade,
                mark: Mark::Plain,
            });
            assert_eq!(rgba.len(), (SIZE * SIZE * 4) as usize);
            let (face, rim) = colours(shade);
            assert_eq!(pixel(&rgba, 16, 5), [face[0], face[1], face[2], 255]);
            assert_eq!(pixel(&rgba, 16, 14), [face[0], face[1], face[2], 255]);
            assert_eq!(pixel(&rgba, 16, 28), [rim[0], rim[1], rim[2], 255]);
            assert_eq!(pixel(&rgba, 0, 0)[3], 0);
            assert_eq!(pixel(&rgba, 31, 31)[3], 0);
        }
    }

    #[test]
    fn marks_are_white_on_the_face() {
        let paused = render(IconLook {
            shade: Shade::Grey,
            mark: Mark::Pause,
        });
        assert_eq!(pixel(&paused, 12, 14), [255, 255, 255, 255]);
        assert_eq!(pixel(&paused, 19, 14), [255, 255, 255, 255]);
        assert_eq!(pixel(&paused, 16, 14), [0x8C, 0x8C, 0x8C, 255]);
        let absent = render(IconLook {
            shade: Shade::Grey,
            mark: Mark::Absent,
        });
        assert_eq!(pixel(&absent, 16, 13), [255, 255, 255, 255]);
        assert_eq!(pixel(&absent, 16, 5), [0x8C, 0x8C, 0x8C, 255]);
    }
}
