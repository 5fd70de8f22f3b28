//! Where everything goes on the licence's A4 pages, as the printable page
//! lays it out: a red double frame, the title, the identifier, the fields,
//! the items table, the QR code beside the issuer's seal, the verification
//! link, the signature and the note. Pure: it only measures text (through
//! [`Measure`]) and answers drawing operations, so it is tested without a
//! font and drawn by `render`.
//!
//! Units are PDF points, origin at the page's top left, `y` down; a text's
//! `y` is its baseline.

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.28;
/// A4 in points.
pub const PAGE_HEIGHT: f32 = 841.89;

const MARGIN: f32 = 34.0;
const FRAME_GAP: f32 = 3.5;
const PADDING: f32 = 24.0;
const LEFT: f32 = MARGIN + PADDING;
const RIGHT: f32 = PAGE_WIDTH - MARGIN - PADDING;
const TOP: f32 = MARGIN + PADDING;
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN - PADDING;
const WIDTH: f32 = RIGHT - LEFT;

const LABEL_WIDTH: f32 = 112.0;
const FIELD_SIZE: f32 = 11.5;
const CELL_SIZE: f32 = 9.5;
const CELL_PAD: f32 = 4.0;
const QR_SIDE: f32 = 98.0;
const SEAL_RADIUS: f32 = 44.0;
const SIG_SIZE: f32 = 6.5;
const NOTE_SIZE: f32 = 8.5;
/// Column shares of the items table: 序号, 事项名称, 事项编码, 审批部门, 许可证号.
const COLUMNS: [f32; 5] = [0.07, 0.28, 0.17, 0.20, 0.28];
const HEADINGS: [&str; 5] = ["序号", "事项名称", "事项编码", "审批部门", "许可证号"];

/// Text widths, from the font the PDF is set in.
pub trait Measure {
    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32;
}

/// The colours of the printed licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ink {
    /// Body text.
    Black,
    /// Captions and the signature.
    Grey,
    /// Frame, title, seal, stamp (the print page's #a8201a).
    Red,
    /// Table rules (#b9ad8c).
    Rule,
    /// The items table's heading background (#f1ead6).
    Shade,
}

/// What the licence says, as text ready to print.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// 证照名称, e.g. 行业综合许可证.
    pub title: String,
    /// 电子证照标识.
    pub identifier: String,
    /// The fields (持证主体, 统一社会信用代码, 许可范围, 有效期限, 证照状态).
    pub fields: Vec<(String, String)>,
    /// The permits, one row each: 事项名称, 事项编码, 审批部门, 许可证号.
    pub items: Vec<[String; 4]>,
    /// What the QR code encodes and the printed link says.
    pub verify_url: String,
    /// The QR code: modules per side and whether each (row by row) is dark.
    pub qr: (usize, Vec<bool>),
    /// 发证机构 name.
    pub issuer_name: String,
    /// Lines beside the seal: 发证机构, 机构代码, 发证日期.
    pub issuer_lines: Vec<String>,
    /// Heading of the signature block (algorithm and key id).
    pub signature_heading: String,
    /// The compact JWS.
    pub jws: String,
    /// The closing note.
    pub note: String,
    /// "已暂扣" and the like across the page when the status is not 有效.
    pub stamp: Option<String>,
}

/// One drawing operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A line of text (baseline at `y`), `tracking` em added after each
    /// character, `bold` drawn with a thin outline.
    Text {
        /// Left.
        x: f32,
        /// Baseline.
        y: f32,
        /// Points.
        size: f32,
        /// The text.
        text: String,
        /// Colour.
        ink: Ink,
        /// Heavier strokes (headings).
        bold: bool,
        /// Extra space after each character, in em.
        tracking: f32,
    },
    /// A rectangle, filled and/or outlined.
    Rect {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Fill colour.
        fill: Option<Ink>,
        /// Outline colour and width.
        stroke: Option<(Ink, f32)>,
    },
    /// A circle outline.
    Circle {
        /// Centre.
        cx: f32,
        /// Centre.
        cy: f32,
        /// Radius.
        r: f32,
        /// Colour.
        ink: Ink,
        /// Line width.
        width: f32,
    },
    /// The QR code: `modules` per side, dark modules as filled squares.
    Qr {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Side of the whole code.
        side: f32,
        /// Modules per side.
        modules: usize,
        /// Dark or not, row by row.
        dark: Vec<bool>,
    },
    /// A clickable area opening `url`.
    Link {
        /// Left.
        x: f32,
        /// Top.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Target.
        url: String,
    },
    /// Text in a box, rotated by `angle` degrees about its centre.
    Stamp {
        /// Centre.
        cx: f32,
        /// Centre.
        cy: f32,
        /// Degrees, clockwise.
        angle: f32,
        /// Points.
        size: f32,
        /// The text.
        text: String,
        /// Its width at `size`.
        width: f32,
    },
}

/// One page's operations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// In drawing order.
    pub ops: Vec<Op>,
}

/// Breaks `text` into lines no wider than `width`: between characters
/// (Chinese has no spaces to break at; identifiers and the JWS must break
/// somewhere), preferring a space when there is one in the line.
pub fn wrap(text: &str, size: f32, width: f32, m: &impl Measure) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        let mut candidate = line.clone();
        candidate.push(c);
        if !line.is_empty() && m.width(&candidate, size) > width {
            match line.rfind(' ').filter(|&at| at > 0) {
                Some(at) => {
                    let rest = line[at + 1..].to_owned();
                    line.truncate(at);
                    lines.push(std::mem::take(&mut line));
                    line = rest;
                }
                None => lines.push(std::mem::take(&mut line)),
            }
            if c == ' ' && line.is_empty() {
                continue;
            }
        }
        line.push(c);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn leading(size: f32) -> f32 {
    size * 1.45
}

fn text(x: f32, y: f32, size: f32, s: impl Into<String>, ink: Ink) -> Op {
    Op::Text {
        x,
        y,
        size,
        text: s.into(),
        ink,
        bold: false,
        tracking: 0.0,
    }
}

fn bold(op: Op) -> Op {
    match op {
        Op::Text {
            x,
            y,
            size,
            text,
            ink,
            tracking,
            ..
        } => Op::Text {
            x,
            y,
            size,
            text,
            ink,
            bold: true,
            tracking,
        },
        other => other,
    }
}

/// Pages being filled top to bottom.
struct Flow<'a, M: Measure> {
    m: &'a M,
    sheet: &'a Sheet,
    pages: Vec<Page>,
    y: f32,
}

impl<'a, M: Measure> Flow<'a, M> {
    fn new(sheet: &'a Sheet, m: &'a M) -> Self {
        let mut flow = Self {
            m,
            sheet,
            pages: Vec::new(),
            y: TOP,
        };
        flow.new_page();
        flow
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.pages.last_mut().expect("a page is open").ops
    }

    fn push(&mut self, op: Op) {
        self.ops().push(op);
    }

    /// A fresh page with its frame (and the stamp, on every page); later
    /// pages repeat the title and identifier in small print.
    fn new_page(&mut self) {
        let mut page = Page::default();
        let (w, h) = (PAGE_WIDTH - 2.0 * MARGIN, PAGE_HEIGHT - 2.0 * MARGIN);
        page.ops.push(Op::Rect {
            x: MARGIN,
            y: MARGIN,
            w,
            h,
            fill: None,
            stroke: Some((Ink::Red, 1.6)),
        });
        page.ops.push(Op::Rect {
            x: MARGIN + FRAME_GAP,
            y: MARGIN + FRAME_GAP,
            w: w - 2.0 * FRAME_GAP,
            h: h - 2.0 * FRAME_GAP,
            fill: None,
            stroke: Some((Ink::Red, 0.6)),
        });
        let first = self.pages.is_empty();
        self.pages.push(page);
        self.y = TOP;
        if !first {
            let line = format!("{}（续）  {}", self.sheet.title, self.sheet.identifier);
            self.y += 9.0;
            self.push(text(LEFT, TOP + 9.0, 9.0, line, Ink::Grey));
            self.y += 14.0;
        }
    }

    /// Makes room for `height` more points, on a new page if need be.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP + 40.0 {
            self.new_page();
        }
    }

    fn centred(&mut self, s: &str, size: f32, ink: Ink, tracking: f32) -> f32 {
        let chars = s.chars().count() as f32;
        let width = self.m.width(s, size) + tracking * size * chars.max(1.0);
        let x = (LEFT + (WIDTH - width) / 2.0).max(LEFT);
        self.push(Op::Text {
            x,
            y: self.y,
            size,
            text: s.to_owned(),
            ink,
            bold: false,
            tracking,
        });
        width
    }

    fn heading(&mut self) {
        let title = self.sheet.title.clone();
        self.y += 30.0;
        self.centred(&title, 28.0, Ink::Red, 0.3);
        if let Some(Op::Text { bold, .. }) = self.ops().last_mut() {
            *bold = true;
        }
        self.y += 22.0;
        let sub = format!("电子证照标识：{}", self.sheet.identifier);
        self.centred(&sub, 9.5, Ink::Grey, 0.0);
        self.y += 20.0;
    }

    fn fields(&mut self) {
        let value_width = WIDTH - LABEL_WIDTH;
        for (label, value) in self.sheet.fields.clone() {
            let lines = wrap(&value, FIELD_SIZE, value_width, self.m);
            let height = leading(FIELD_SIZE) * lines.len() as f32 + 6.0;
            self.room(height);
            let base = self.y + FIELD_SIZE;
            self.push(bold(text(LEFT, base, FIELD_SIZE, label, Ink::Black)));
            for (n, line) in lines.into_iter().enumerate() {
                let y = base + n as f32 * leading(FIELD_SIZE);
                self.push(text(LEFT + LABEL_WIDTH, y, FIELD_SIZE, line, Ink::Black));
            }
            self.y += height;
        }
    }

    /// One table row: cells wrapped to their columns, ruled, the heading
    /// row shaded.
    fn row(&mut self, cells: &[String; 5], heading: bool) {
        let widths = COLUMNS.map(|share| share * WIDTH);
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| wrap(cell, CELL_SIZE, w - 2.0 * CELL_PAD, self.m))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1) as f32;
        let height = lines * leading(CELL_SIZE) + 2.0 * CELL_PAD - 2.0;
        let top = self.y;
        let mut x = LEFT;
        for (cell, w) in wrapped.into_iter().zip(widths) {
            self.push(Op::Rect {
                x,
                y: top,
                w,
                h: height,
                fill: heading.then_some(Ink::Shade),
                stroke: Some((Ink::Rule, 0.6)),
            });
            for (n, line) in cell.into_iter().enumerate() {
                let y = top + CELL_PAD + CELL_SIZE + n as f32 * leading(CELL_SIZE) - 1.0;
                let op = text(x + CELL_PAD, y, CELL_SIZE, line, Ink::Black);
                self.push(if heading { bold(op) } else { op });
            }
            x += w;
        }
        self.y += height;
    }

    fn items(&mut self) {
        let headings = HEADINGS.map(str::to_owned);
        self.room(60.0);
        self.y += 6.0;
        let caption = format!("许可事项（{} 项）", self.sheet.items.len());
        let y = self.y + FIELD_SIZE;
        self.push(bold(text(LEFT, y, FIELD_SIZE, caption, Ink::Black)));
        self.y += leading(FIELD_SIZE) + 4.0;
        self.row(&headings, true);
        for (n, item) in self.sheet.items.clone().into_iter().enumerate() {
            let [name, code, department, permit] = item;
            let cells = [(n + 1).to_string(), name, code, department, permit];
            // A row that would cross the bottom goes to the next page,
            // under the headings again.
            let before = self.pages.len();
            self.room(leading(CELL_SIZE) * 2.0 + 2.0 * CELL_PAD);
            if self.pages.len() != before {
                self.row(&headings, true);
            }
            self.row(&cells, false);
        }
    }

    /// QR code and its caption on the left, the seal and issuer lines on
    /// the right, the verification link under both.
    fn bottom(&mut self) {
        let url_size = 8.0;
        let url_lines = wrap(&self.sheet.verify_url, url_size, WIDTH, self.m);
        let height = QR_SIDE + 16.0 + leading(url_size) * (url_lines.len() as f32 + 1.0) + 16.0;
        self.room(height);
        self.y += 16.0;
        let top = self.y;
        let (modules, dark) = self.sheet.qr.clone();
        self.push(Op::Qr {
            x: LEFT,
            y: top,
            side: QR_SIDE,
            modules,
            dark,
        });
        let caption = "扫码核验真伪与当前状态";
        let cw = self.m.width(caption, 8.5);
        self.push(text(
            LEFT + ((QR_SIDE - cw) / 2.0).max(0.0),
            top + QR_SIDE + 15.0,
            8.5,
            caption,
            Ink::Grey,
        ));

        // The seal: a red ring with 电子签章 and the issuer's name.
        let cx = RIGHT - SEAL_RADIUS - 30.0;
        let cy = top + SEAL_RADIUS;
        self.push(Op::Circle {
            cx,
            cy,
            r: SEAL_RADIUS,
            ink: Ink::Red,
            width: 1.6,
        });
        let inner = 2.0 * SEAL_RADIUS - 16.0;
        for (dy, s, size) in [
            (-4.0, "电子签章".to_owned(), 9.0f32),
            (10.0, self.sheet.issuer_name.clone(), 9.0),
        ] {
            let width = self.m.width(&s, size);
            let size = if width > inner {
                size * inner / width
            } else {
                size
            };
            let width = self.m.width(&s, size);
            self.push(text(cx - width / 2.0, cy + dy, size, s, Ink::Red));
        }
        let lines = self.sheet.issuer_lines.clone();
        let widest = lines
            .iter()
            .map(|l| self.m.width(l, 10.5))
            .fold(0.0f32, f32::max);
        let mut y = top + 2.0 * SEAL_RADIUS + 16.0;
        for line in lines {
            self.push(text(RIGHT - widest, y, 10.5, line, Ink::Black));
            y += leading(10.5);
        }
        self.y = (top + QR_SIDE + 22.0).max(y - leading(10.5) + 6.0);

        // The link, clickable, on as few lines as it takes.
        let label = "在线核验：";
        self.y += leading(url_size);
        self.push(text(LEFT, self.y, url_size, label, Ink::Grey));
        self.y += leading(url_size);
        for line in url_lines {
            let w = self.m.width(&line, url_size);
            self.push(text(LEFT, self.y, url_size, line.clone(), Ink::Black));
            self.push(Op::Link {
                x: LEFT,
                y: self.y - url_size,
                w,
                h: url_size * 1.3,
                url: self.sheet.verify_url.clone(),
            });
            self.y += leading(url_size);
        }
    }

    /// The signature heading and the JWS, wrapped; then the note.
    fn signature(&mut self) {
        let heading = self.sheet.signature_heading.clone();
        let jws = wrap(&self.sheet.jws, SIG_SIZE, WIDTH, self.m);
        self.room(leading(8.0) + leading(SIG_SIZE) * jws.len() as f32 + 8.0);
        self.y += 8.0 + 8.0;
        self.push(bold(text(LEFT, self.y, 8.0, heading, Ink::Grey)));
        for line in jws {
            self.y += leading(SIG_SIZE);
            self.push(text(LEFT, self.y, SIG_SIZE, line, Ink::Grey));
        }
        let note = wrap(&self.sheet.note, NOTE_SIZE, WIDTH, self.m);
        self.room(leading(NOTE_SIZE) * note.len() as f32 + 8.0);
        self.y += 8.0;
        for line in note {
            self.y += leading(NOTE_SIZE);
            self.push(text(LEFT, self.y, NOTE_SIZE, line, Ink::Grey));
        }
    }

    /// The status stamp goes on top of every page's content.
    fn stamp(&mut self) {
        let Some(stamp) = self.sheet.stamp.clone() else {
            return;
        };
        let size = 36.0;
        let width = self.m.width(&stamp, size);
        for page in &mut self.pages {
            page.ops.push(Op::Stamp {
                cx: PAGE_WIDTH / 2.0,
                cy: 250.0,
                angle: -18.0,
                size,
                text: stamp.clone(),
                width,
            });
        }
    }
}

/// The licence's pages: one for any ordinary bundle of permits; a long
/// list of permits continues on further pages, headings repeated.
pub fn layout(sheet: &Sheet, m: &impl Measure) -> Vec<Page> {
    let mut flow = Flow::new(sheet, m);
    flow.heading();
    flow.fields();
    flow.items();
    flow.bottom();
    flow.signature();
    flow.stamp();
    flow.pages
}

#[cfg(test)]
mod tests;
