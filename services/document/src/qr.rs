//! QR codes for certificates: the public verification URL as SVG (for the
//! printable page and `qr.svg`) and PNG (for `qr.png`).

use image::{ImageEncoder, Luma};
use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module in both renderings: large enough to scan from paper.
pub const MODULE_PX: u32 = 8;
/// Light modules around the code, as the QR standard asks.
pub const QUIET_ZONE: u32 = 4;

/// Why a QR code could not be made (only for data far beyond a URL's size).
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The data does not fit a QR code.
    #[error("QR encoding: {0}")]
    Encode(#[from] qrcode::types::QrError),
    /// PNG encoding failed.
    #[error("PNG encoding: {0}")]
    Png(#[from] image::ImageError),
}

/// Medium error correction survives a smudged print and keeps the code small.
fn code(data: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(data, EcLevel::M)?)
}

/// A standalone SVG document (with XML declaration) encoding `data`.
pub fn svg(data: &str) -> Result<String, QrError> {
    Ok(code(data)?
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .module_dimensions(MODULE_PX, MODULE_PX)
        .build())
}

/// The same SVG without the XML declaration, for embedding in HTML.
pub fn inline_svg(data: &str) -> Result<String, QrError> {
    let svg = svg(data)?;
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

/// The modules of the code for `data`, without quiet zone: modules per
/// side and whether each (row by row) is dark. For drawing it as vector
/// shapes (the licence PDF).
pub fn modules(data: &str) -> Result<(usize, Vec<bool>), QrError> {
    let code = code(data)?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

/// A greyscale PNG encoding `data`.
pub fn png(data: &str) -> Result<Vec<u8>, QrError> {
    let code = code(data)?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PX;
    let img = image::ImageBuffer::from_fn(side, side, |x, y| {
        let (mx, my) = (x / MODULE_PX, y / MODULE_PX);
        let inside = (QUIET_ZONE..QUIET_ZONE + modules).contains(&mx)
            && (QUIET_ZONE..QUIET_ZONE + modules).contains(&my);
        let dark = inside
            && colors[((my - QUIET_ZONE) * modules + (mx - QUIET_ZONE)) as usize] == Color::Dark;
        Luma([if dark { 0u8 } else { 255u8 }])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        side,
        side,
        image::ExtendedColorType::L8,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_the_signature_and_expected_size() {
        let bytes =
            png("http://127.0.0.1:8083/verify?id=1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M")
                .unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!(img.width(), img.height());
        assert_eq!(img.width() % MODULE_PX, 0);
    }

    #[test]
    fn svg_is_a_document_and_inline_drops_the_declaration() {
        let s = svg("x").unwrap();
        assert!(s.starts_with("<?xml"));
        assert!(s.contains("<svg"));
        let inline = inline_svg("x").unwrap();
        assert!(inline.starts_with("<svg"));
    }
}
