//! Draws laid-out pages with krilla: text as real text (a CID font
//! subset with a ToUnicode map, so it can be searched, copied and
//! extracted), the QR code and the frame as vector shapes.

use krilla::Document;
use krilla::action::LinkAction;
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

use super::font::LicenceFont;
use super::layout::{Ink, Op, PAGE_HEIGHT, PAGE_WIDTH, Page};

/// Why krilla could not write the PDF (a bug, not bad input).
#[derive(Debug, thiserror::Error)]
#[error("PDF: {0}")]
pub struct RenderError(String);

fn color(ink: Ink) -> rgb::Color {
    match ink {
        Ink::Black => rgb::Color::new(0x1d, 0x1d, 0x1d),
        Ink::Grey => rgb::Color::new(0x55, 0x55, 0x55),
        Ink::Red => rgb::Color::new(0xa8, 0x20, 0x1a),
        Ink::Rule => rgb::Color::new(0xb9, 0xad, 0x8c),
        Ink::Shade => rgb::Color::new(0xf1, 0xea, 0xd6),
    }
}

fn fill(ink: Ink) -> Fill {
    Fill {
        paint: color(ink).into(),
        ..Fill::default()
    }
}

fn stroke(ink: Ink, width: f32) -> Stroke {
    Stroke {
        paint: color(ink).into(),
        width,
        ..Stroke::default()
    }
}

/// Writes the pages as one PDF, titled `title`, in Chinese.
pub fn render(pages: &[Page], font: &LicenceFont, title: &str) -> Result<Vec<u8>, RenderError> {
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_owned())
            .language("zh-CN".into())
            .creator("一站政务服务中心 电子证照".into()),
    );
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| RenderError("page size".into()))?;
    for laid in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut links = Vec::new();
        let mut surface = page.surface();
        for op in &laid.ops {
            draw(&mut surface, font, op, &mut links);
        }
        surface.finish();
        for (rect, url) in links {
            page.add_annotation(Annotation::new_link(
                LinkAnnotation::new(rect, Target::Action(LinkAction::new(url).into())),
                Some("在线核验电子证照".into()),
            ));
        }
        page.finish();
    }
    document.finish().map_err(|e| RenderError(format!("{e:?}")))
}

fn draw(surface: &mut Surface<'_>, font: &LicenceFont, op: &Op, links: &mut Vec<(Rect, String)>) {
    match op {
        Op::Text {
            x,
            y,
            size,
            text,
            ink,
            bold,
            tracking,
        } => {
            surface.set_fill(Some(fill(*ink)));
            // Bold without a bold face: the glyphs' own outline, thin.
            surface.set_stroke(bold.then(|| stroke(*ink, size * 0.03)));
            draw_text(
                surface,
                font,
                Point::from_xy(*x, *y),
                *size,
                text,
                *tracking,
            );
            surface.set_stroke(None);
        }
        Op::Rect {
            x,
            y,
            w,
            h,
            fill: inside,
            stroke: outline,
        } => {
            let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                return;
            };
            let mut builder = PathBuilder::new();
            builder.push_rect(rect);
            if let Some(path) = builder.finish() {
                surface.set_fill(inside.map(fill));
                surface.set_stroke(outline.map(|(ink, width)| stroke(ink, width)));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Circle {
            cx,
            cy,
            r,
            ink,
            width,
        } => {
            // Four cubic Béziers, the usual circle approximation.
            let k = 0.552_284_8 * r;
            let mut b = PathBuilder::new();
            b.move_to(cx + r, *cy);
            b.cubic_to(cx + r, cy + k, cx + k, cy + r, *cx, cy + r);
            b.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, *cy);
            b.cubic_to(cx - r, cy - k, cx - k, cy - r, *cx, cy - r);
            b.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, *cy);
            b.close();
            if let Some(path) = b.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*ink, *width)));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Qr {
            x,
            y,
            side,
            modules,
            dark,
        } => {
            let module = side / *modules as f32;
            let mut b = PathBuilder::new();
            // Runs of dark modules in a row as one rectangle each: fewer,
            // seamless shapes.
            for (row, cells) in dark.chunks(*modules).enumerate() {
                let mut col = 0;
                while col < cells.len() {
                    if !cells[col] {
                        col += 1;
                        continue;
                    }
                    let start = col;
                    while col < cells.len() && cells[col] {
                        col += 1;
                    }
                    if let Some(rect) = Rect::from_xywh(
                        x + start as f32 * module,
                        y + row as f32 * module,
                        (col - start) as f32 * module,
                        module,
                    ) {
                        b.push_rect(rect);
                    }
                }
            }
            if let Some(path) = b.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(Fill {
                    paint: rgb::Color::new(0, 0, 0).into(),
                    ..Fill::default()
                }));
                surface.draw_path(&path);
            }
        }
        Op::Link { x, y, w, h, url } => {
            if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                links.push((rect, url.clone()));
            }
        }
        Op::Stamp {
            cx,
            cy,
            angle,
            size,
            text,
            width,
        } => {
            surface.push_transform(&Transform::from_rotate_at(*angle, *cx, *cy));
            let pad = size * 0.3;
            if let Some(rect) = Rect::from_xywh(
                cx - width / 2.0 - pad,
                cy - size / 2.0 - pad,
                width + 2.0 * pad,
                size + 2.0 * pad,
            ) {
                let mut b = PathBuilder::new();
                b.push_rect(rect);
                if let Some(path) = b.finish() {
                    surface.set_fill(None);
                    surface.set_stroke(Some(stroke(Ink::Red, 3.0)));
                    surface.draw_path(&path);
                    surface.set_stroke(None);
                }
            }
            surface.set_fill(Some(fill(Ink::Red)));
            let baseline = Point::from_xy(cx - width / 2.0, cy + size * 0.36);
            draw_text(surface, font, baseline, *size, text, 0.0);
            surface.pop();
        }
    }
}

fn draw_text(
    surface: &mut Surface<'_>,
    font: &LicenceFont,
    at: Point,
    size: f32,
    text: &str,
    tracking: f32,
) {
    if text.is_empty() {
        return;
    }
    let glyphs: Vec<KrillaGlyph> = font
        .glyphs(text)
        .into_iter()
        .map(|g| KrillaGlyph {
            glyph_id: GlyphId::new(g.id),
            text_range: g.text,
            x_advance: g.advance + tracking,
            x_offset: 0.0,
            y_offset: 0.0,
            y_advance: 0.0,
            location: None,
        })
        .collect();
    surface.draw_glyphs(at, &glyphs, font.pdf.clone(), text, size, false);
}
