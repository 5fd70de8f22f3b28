//! Document domain rules: which material types exist, which file kinds each
//! accepts (judged by the bytes, never the extension), and how an uploaded
//! file name is made safe to show and to store.

pub mod certificate;
pub mod jws;

/// A sniffed file kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// PDF document.
    Pdf,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// OFD (GB/T 33190 版式文档), a zip whose first entry is `OFD.xml`.
    Ofd,
}

impl FileKind {
    /// The content type served on download.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Ofd => "application/ofd",
        }
    }

    /// Short name shown in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Ofd => "OFD",
        }
    }

    /// Recognises a kind from the first bytes of a file.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if head.starts_with(b"PK\x03\x04") && head.len() >= 37 && &head[30..37] == b"OFD.xml"
        {
            Some(Self::Ofd)
        } else {
            None
        }
    }
}

/// A kind of material (申请材料类型, the shared vocabulary in
/// `yizhan_types::material_type`) and the file kinds it accepts.
#[derive(Debug, Clone, Copy)]
pub struct MaterialType {
    /// Stable code used in APIs.
    pub code: &'static str,
    /// Chinese name.
    pub name: &'static str,
    /// Accepted file kinds.
    pub accepts: &'static [FileKind],
}

const DOCS: &[FileKind] = &[FileKind::Pdf, FileKind::Ofd];
const IMAGES: &[FileKind] = &[FileKind::Png, FileKind::Jpeg];
const DOCS_AND_IMAGES: &[FileKind] = &[FileKind::Pdf, FileKind::Ofd, FileKind::Png, FileKind::Jpeg];

impl MaterialType {
    fn of(t: &'static yizhan_types::material_type::MaterialType) -> Self {
        use yizhan_types::material_type::Accepts;
        Self {
            code: t.code,
            name: t.name,
            accepts: match t.accepts {
                Accepts::Documents => DOCS,
                Accepts::DocumentsAndImages => DOCS_AND_IMAGES,
                Accepts::Images => IMAGES,
            },
        }
    }
}

/// Every material type this deployment knows, in list order.
pub fn material_types() -> impl Iterator<Item = MaterialType> {
    yizhan_types::material_type::MATERIAL_TYPES
        .iter()
        .map(MaterialType::of)
}

/// Looks a material type up by code.
pub fn material_type(code: &str) -> Option<MaterialType> {
    yizhan_types::material_type::find(code).map(MaterialType::of)
}

/// Makes an uploaded file name safe: the last path segment only (so
/// `../../etc/passwd` becomes `passwd`), no control characters, no leading
/// dots, at most 120 characters. Files are stored by content hash, so the
/// name is only ever shown, never used as a path.
///
/// Bidi overrides and isolates, zero-width characters and the BOM
/// ([`yizhan_kit::text::is_invisible_format`]) are dropped rather than the
/// upload refused: browsers and scanners put them in names innocently
/// (a BOM, a zero-width space from a copied title), and without them the
/// name shows what it is: `\u{202E}fdp.exe` is kept as `fdp.exe`, never
/// shown to a clerk as "exe.pdf".
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !yizhan_kit::text::is_invisible_format(*c)
                && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':')
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let limited: String = trimmed.chars().take(120).collect();
    if limited.is_empty() {
        "未命名文件".to_owned()
    } else {
        limited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_names_keep_only_the_last_segment() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\windows\\win.ini"), "win.ini");
        assert_eq!(sanitize_filename("../.."), "未命名文件");
        assert_eq!(sanitize_filename(".hidden"), "hidden");
        assert_eq!(sanitize_filename("营业执照.pdf"), "营业执照.pdf");
        assert_eq!(sanitize_filename("a\u{0}b\r\n.pdf"), "ab.pdf");
    }

    #[test]
    fn names_lose_bidi_overrides_and_invisible_characters() {
        assert_eq!(sanitize_filename("\u{202E}fdp.exe"), "fdp.exe");
        assert_eq!(
            sanitize_filename("\u{FEFF}合同\u{200B}\u{2066}扫描\u{2069}\u{202D}.pdf\u{200F}"),
            "合同扫描.pdf"
        );
        assert_eq!(sanitize_filename("\u{202A}\u{200C}"), "未命名文件");
        assert_eq!(sanitize_filename("a\u{1b}[31mb\u{7f}.pdf"), "a[31mb.pdf");
    }

    #[test]
    fn sniffs_by_bytes_not_names() {
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(FileKind::Png)
        );
        assert_eq!(FileKind::sniff(b"MZ\x90\x00 executable"), None);
        let mut ofd = b"PK\x03\x04".to_vec();
        ofd.extend_from_slice(&[0u8; 26]);
        ofd.extend_from_slice(b"OFD.xml");
        assert_eq!(FileKind::sniff(&ofd), Some(FileKind::Ofd));
    }

    #[test]
    fn site_photos_refuse_pdfs() {
        let t = material_type("site_photo").unwrap();
        assert!(!t.accepts.contains(&FileKind::Pdf));
    }
}
