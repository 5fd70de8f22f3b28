//! The Chinese font licence PDFs are set in. It is never vendored (a CJK
//! font is tens of megabytes): it is read from the machine, from the path
//! `document.certificates.pdf_font` names or else the first of Debian's
//! known font paths that exists, on the first PDF asked for and kept in
//! memory from then on. Each PDF embeds only the subset of glyphs it uses.
//!
//! A missing font does not stop the service: only the PDF is unavailable
//! (503, naming the setting), and installing the font afterwards is enough,
//! since every request without a font looks again.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use skrifa::instance::{LocationRef, Size};
use skrifa::raw::FileRef;
use skrifa::string::StringId;
use skrifa::{FontRef, MetadataProvider};

/// Where Debian's (and other distributions') CJK font packages put their
/// fonts, in order of preference: a serif face first, as the printed
/// licence uses 宋体; Noto CJK from `fonts-noto-cjk`, then WenQuanYi and
/// AR PL fonts.
pub const KNOWN_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// The setting that names the font, as people configure it.
pub const SETTING: &str = "document.certificates.pdf_font";
/// The same setting as an environment variable.
pub const SETTING_ENV: &str = "YIZHAN_DOCUMENT__CERTIFICATES__PDF_FONT";

/// Characters every licence has: a face without them is not a Chinese font.
const PROBE: &str = "电子证照许可有效期限持证主体";

/// Why there is no font to set a PDF in.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FontError {
    /// Neither the configured path nor any known path exists.
    #[error("no CJK font at {0}")]
    NotFound(String),
    /// The file exists but cannot be used.
    #[error("font {path}: {reason}")]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl FontError {
    /// zh-CN, for the 503 answer: what is missing and how to fix it.
    pub fn message(&self) -> String {
        let fix = format!(
            "请安装中文字体（Debian/Ubuntu：apt-get install fonts-noto-cjk），\
             或以设置 {SETTING}（环境变量 {SETTING_ENV}）指定一个中文 TrueType/OpenType 字体文件"
        );
        match self {
            Self::NotFound(looked) => format!("服务器上未找到中文字体（已查找：{looked}）；{fix}"),
            Self::Unusable { path, reason } => {
                format!("字体文件 {} 无法使用（{reason}）；{fix}", path.display())
            }
        }
    }
}

/// One glyph of a laid-out string: which glyph, which characters it
/// stands for (so PDF text extraction gives them back), its advance in em.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedGlyph {
    /// Glyph id in the face.
    pub id: u32,
    /// Byte range of the characters in the string.
    pub text: Range<usize>,
    /// Advance width, in em.
    pub advance: f32,
}

/// A loaded face: its file's bytes, which face of a collection, and the
/// krilla handle PDFs embed it through.
pub struct LicenceFont {
    data: Arc<Vec<u8>>,
    index: u32,
    /// The face for krilla (cheap to clone).
    pub pdf: krilla::text::Font,
    /// Where it was read from.
    pub path: PathBuf,
    /// Family name, for the log.
    pub family: String,
}

impl std::fmt::Debug for LicenceFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenceFont")
            .field("path", &self.path)
            .field("index", &self.index)
            .field("family", &self.family)
            .finish()
    }
}

impl LicenceFont {
    /// Reads a font file (a `.ttc` collection or a single `.ttf`/`.otf`)
    /// and picks its Simplified Chinese face.
    pub fn load(path: &Path) -> Result<Self, FontError> {
        let unusable = |reason: String| FontError::Unusable {
            path: path.to_owned(),
            reason,
        };
        let data = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
        let (index, family) = pick_face(&data).map_err(unusable)?;
        let data = Arc::new(data);
        let pdf = krilla::text::Font::new(data.clone().into(), index)
            .ok_or_else(|| unusable("PDF 无法嵌入该字体".into()))?;
        Ok(Self {
            data,
            index,
            pdf,
            path: path.to_owned(),
            family,
        })
    }

    fn face(&self) -> FontRef<'_> {
        FontRef::from_index(&self.data, self.index).expect("the face was read at load")
    }

    /// One glyph per character, no shaping: Chinese text, digits and
    /// identifiers need none, and widths measured here are exactly what
    /// is drawn. A character the face lacks becomes glyph 0 (a box).
    pub fn glyphs(&self, text: &str) -> Vec<PlacedGlyph> {
        let face = self.face();
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(
            face.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        text.char_indices()
            .map(|(at, c)| {
                let id = charmap.map(c).unwrap_or_default();
                PlacedGlyph {
                    id: id.to_u32(),
                    text: at..at + c.len_utf8(),
                    advance: metrics.advance_width(id).unwrap_or(0.0) / upem,
                }
            })
            .collect()
    }
}

impl super::layout::Measure for LicenceFont {
    fn width(&self, text: &str, size: f32) -> f32 {
        self.glyphs(text).iter().map(|g| g.advance).sum::<f32>() * size
    }
}

/// The face to use: in a collection the one whose family names Simplified
/// Chinese (`… SC`; Noto CJK collections start with the Japanese face),
/// else the first that has Chinese characters.
fn pick_face(data: &[u8]) -> Result<(u32, String), String> {
    let file = FileRef::new(data).map_err(|e| format!("不是字体文件：{e}"))?;
    let mut chinese = Vec::new();
    for (index, face) in file.fonts().enumerate() {
        let Ok(face) = face else { continue };
        let charmap = face.charmap();
        if !PROBE.chars().all(|c| charmap.map(c).is_some()) {
            continue;
        }
        let family = face
            .localized_strings(StringId::FAMILY_NAME)
            .english_or_first()
            .map(|s| s.chars().collect::<String>())
            .unwrap_or_default();
        chinese.push((index as u32, family));
    }
    let simplified = chinese
        .iter()
        .position(|(_, family)| family.split_whitespace().any(|w| w == "SC"));
    match simplified {
        Some(at) => Ok(chinese.swap_remove(at)),
        None => chinese
            .into_iter()
            .next()
            .ok_or_else(|| "字体中没有中文字形".to_owned()),
    }
}

/// Finds and holds the font: the configured path, else the known paths.
pub struct FontSource {
    configured: Option<PathBuf>,
    loaded: tokio::sync::Mutex<Option<Arc<LicenceFont>>>,
}

impl FontSource {
    /// A source for the configured path (`None`: search the known paths).
    pub fn new(configured: Option<PathBuf>) -> Self {
        Self {
            configured,
            loaded: tokio::sync::Mutex::new(None),
        }
    }

    /// The file that would be read now, if any. A configured path is used
    /// as is (a wrong one is an error, not a reason to take another font).
    pub fn locate(&self) -> Result<PathBuf, FontError> {
        match &self.configured {
            Some(path) if path.is_file() => Ok(path.clone()),
            Some(path) => Err(FontError::NotFound(path.display().to_string())),
            None => KNOWN_PATHS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .ok_or_else(|| FontError::NotFound(KNOWN_PATHS.join("、"))),
        }
    }

    /// The font, read on first use (off the async threads: it is tens of
    /// megabytes); until one is found, every call looks again.
    pub async fn get(&self) -> Result<Arc<LicenceFont>, FontError> {
        let mut loaded = self.loaded.lock().await;
        if let Some(font) = loaded.as_ref() {
            return Ok(font.clone());
        }
        let path = self.locate()?;
        let font = tokio::task::spawn_blocking(move || LicenceFont::load(&path))
            .await
            .map_err(|e| FontError::Unusable {
                path: PathBuf::new(),
                reason: e.to_string(),
            })??;
        tracing::info!(font = ?font, "licence PDF font loaded");
        let font = Arc::new(font);
        *loaded = Some(font.clone());
        Ok(font)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_path_that_is_missing_is_not_replaced_by_another_font() {
        let source = FontSource::new(Some("/nonexistent/font.ttc".into()));
        let err = source.locate().unwrap_err();
        assert!(matches!(err, FontError::NotFound(ref p) if p == "/nonexistent/font.ttc"));
        let message = err.message();
        assert!(message.contains(SETTING), "{message}");
        assert!(message.contains("fonts-noto-cjk"), "{message}");
    }

    #[test]
    fn a_file_that_is_not_a_font_is_unusable() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"not a font").unwrap();
        let err = LicenceFont::load(file.path()).unwrap_err();
        assert!(matches!(err, FontError::Unusable { .. }), "{err}");
    }

    #[test]
    fn the_simplified_chinese_face_of_a_collection_is_chosen() {
        let Some(path) = KNOWN_PATHS
            .iter()
            .find(|p| p.contains("Noto") && Path::new(p).is_file())
        else {
            eprintln!("SKIPPED: no Noto CJK collection on this machine");
            return;
        };
        let font = LicenceFont::load(Path::new(path)).unwrap();
        assert!(font.family.ends_with(" SC"), "{}", font.family);
        let glyphs = font.glyphs("许可A1");
        assert!(glyphs.iter().all(|g| g.id != 0 && g.advance > 0.0));
        // Han characters are one em; Latin letters and digits narrower.
        assert!((glyphs[0].advance - 1.0).abs() < 0.01);
        assert!(glyphs[2].advance < 0.8);
        assert_eq!(glyphs[2].text, 6..7);
    }
}
