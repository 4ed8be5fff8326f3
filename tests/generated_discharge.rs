//! Generative test: random but realistic synthetic NHS CDA inpatient
//! discharge documents (POCD_MT150001UK06 and legacy Generic CDA) must
//! convert, pass the validator and carry their facts into the bundle
//! (`common::doccheck::check_document`: NHS number, names, birth date,
//! gender, document date, author, custodian, every section title and
//! ≥ 95 % of the narrative words).
//!
//! The variety follows `shared/docs/legacy-inputs.md` §4 and §9 and the
//! quirks of `testdata/README.md` (structure as in `tools/testdata/cda.py`):
//! default or prefixed hl7 namespace, odd npfitlc prefixes, legacy generic
//! CDA, every timestamp shape, verified / unverified NHS number roots, text
//! and structured names, missing optional parts, section trees of depth 1–3
//! with every title shape, all narrative block markup, character references,
//! literal non-ASCII, CRLF, comments / processing instructions / CDATA in
//! text and coded entries pointing at the narrative by `#id`.
//!
//! All content is fictional and written for this test. The run is
//! deterministic (fixed seed, no failure persistence); set
//! `GEN_DUMP=dir` to write the generated documents out for inspection, and
//! `GEN_CASES=n` / `GEN_SEED=n` to explore beyond the fixed cases.

mod common;

use std::fmt::Write as _;
use std::sync::OnceLock;

use common::doccheck::{check_document_with, drop_composition_sections};
use itkbridge::mapping::{self, embedded, MapSet};
use itkbridge::pipeline::convert_bytes;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

const CASES: u32 = 48;
const SEED: u64 = 0x1D15_C4A6_E000_0003;

// ---------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------

/// How a timestamp is written.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Date,
    Minutes,
    Seconds,
    Fraction,
    Year,
    Hours,
}

#[derive(Debug, Clone)]
struct Ts {
    date: (u16, u8, u8),
    time: (u8, u8, u8),
    frac: &'static str,
    shape: Shape,
    offset: &'static str,
}

impl Ts {
    fn render(&self) -> String {
        let (y, mo, d) = self.date;
        let (h, mi, s) = self.time;
        let mut out = format!("{y:04}{mo:02}{d:02}");
        match self.shape {
            Shape::Year => return format!("{y:04}"),
            Shape::Hours => write!(out, "{h:02}").ok(),
            Shape::Date => return out,
            Shape::Minutes => write!(out, "{h:02}{mi:02}").ok(),
            Shape::Seconds => write!(out, "{h:02}{mi:02}{s:02}").ok(),
            Shape::Fraction => write!(out, "{h:02}{mi:02}{s:02}.{}", self.frac).ok(),
        };
        out.push_str(self.offset);
        out
    }
}

/// Text with a rendering style for characters outside ASCII.
#[derive(Debug, Clone)]
struct Txt {
    s: String,
    /// 0 literal, 1 decimal reference, 2 hex reference.
    refs: u8,
}

#[derive(Debug, Clone)]
enum Name {
    Text(Txt),
    Parts {
        prefix: Option<Txt>,
        given: Vec<Txt>,
        family: Option<Txt>,
        suffix: Option<Txt>,
        family_first: bool,
        use_attr: Option<&'static str>,
    },
}

#[derive(Debug, Clone)]
enum Title {
    Text(Txt),
    Empty,
    Absent,
    Null(&'static str),
}

#[derive(Debug, Clone)]
enum Inline {
    Words(Vec<Txt>),
    Content {
        style: Option<&'static str>,
        id: bool,
        coded: bool,
        inner: Vec<Inline>,
    },
    Br,
    Sub(Txt),
    Sup(Txt),
    Footnote(Vec<Txt>),
    Link(Vec<Txt>),
    Media,
    Comment,
    Pi,
    Cdata(Vec<Txt>),
    Newline(bool),
}

#[derive(Debug, Clone)]
struct Cell {
    th: bool,
    colspan: Option<u8>,
    rowspan: Option<u8>,
    content: Vec<Inline>,
    /// Content wrapped in a `paragraph` inside the cell.
    para: bool,
}

#[derive(Debug, Clone)]
enum Block {
    Para(Option<Vec<Txt>>, Vec<Inline>),
    List {
        ordered: Option<&'static str>,
        caption: Option<Vec<Txt>>,
        items: Vec<Vec<Inline>>,
        /// A list nested in the last item.
        sub: Option<Vec<Vec<Txt>>>,
    },
    Table {
        caption: Option<Vec<Txt>>,
        head: Vec<Vec<Cell>>,
        body: Vec<Vec<Cell>>,
        foot: Vec<Vec<Cell>>,
        border: bool,
    },
    Bare(Vec<Inline>),
}

#[derive(Debug, Clone)]
enum Narr {
    Absent,
    Empty,
    Blocks(Vec<Block>),
}

#[derive(Debug, Clone)]
struct Sec {
    title: Title,
    text: Narr,
    children: Vec<Sec>,
}

#[derive(Debug, Clone)]
struct Gp {
    ods: Option<String>,
    name: Txt,
}

/// Further quirks (legacy-inputs.md §9), kept apart from the header tuple.
#[derive(Debug, Clone)]
struct Extras {
    /// 0 UTF-8 declared, 1 no XML declaration, 2 UTF-8 BOM, 3 UTF-16LE BOM.
    encoding: u8,
    /// `npfitlc` declared on every element that uses it, not on the root.
    npfit_local: bool,
    /// NHS number failing Modulus 11 (kept as written, with a warning).
    nhs_invalid: bool,
    /// `ID` / `styleCode` on blocks, `col` in tables.
    block_attrs: bool,
    /// Titles with line breaks and runs of spaces.
    title_ws: bool,
    /// Rotation of the coded entry kinds (Finding, Treatment, SupplyMedication).
    entry_rot: u8,
    /// Section `code`s (SNOMED section codes, or one no rule knows).
    section_codes: bool,
    /// A second patient name, an alias (`use="P"`), before (1) or after (2)
    /// the legal one; 3: a second legal name (no `use`) after it.
    alias: u8,
    /// HL7 AdministrativeGender (M/F/UN) instead of the NHS Sex codes.
    gender_hl7: bool,
    /// Confidentiality under the value-set OID (111 quirk).
    conf_vs_oid: bool,
    /// Encounter time: 0 low/high, 1 `center` only, 2 `@value` only.
    enc_shape: u8,
    /// Custodian id root: 0 ODS org `…19.1`, 1 ODS site `…19.2`, 2 SDS org; lower-cased code.
    cust_root: u8,
    cust_lower: bool,
    /// Birth time: 0 present, 1 absent, 2 `nullFlavor`; gender `nullFlavor`.
    birth_missing: u8,
    gender_null: bool,
    /// Patient address variant (0–4) and telecoms (indexes into `TELECOMS`).
    addr: u8,
    telecoms: Vec<usize>,
    /// Encounter `responsibleParty`, `legalAuthenticator` (with time), `dataEnterer`.
    responsible: Option<Name>,
    authenticator: Option<(Name, Ts)>,
    enterer: Option<Name>,
    /// Other demographics (crosswalk §2.1.9): 0 none; 1 ethnic category and a
    /// language; 2 also a guardian whose relationship the R19 table codes
    /// (a RelatedPerson); 3 also one it does not (Patient.contact).
    demog: u8,
}

const TELECOMS: &[(&str, &str)] = &[
    ("tel:01234 567890", "H"),
    ("mailto:someone@example.org", "WP"),
    ("tel:+44 7700 900123", "MC"),
    ("fax:01234567891", "WP"),
    ("tel:01234567892", "EC"),
    ("http://example.org/contact", ""),
    ("tel:", "HP"),
    ("01234 567893", "PG"),
];

fn extras() -> impl Strategy<Value = Extras> {
    (
        0u8..4,
        proptest::bool::weighted(0.2),
        proptest::bool::weighted(0.15),
        any::<bool>(),
        proptest::bool::weighted(0.2),
        (
            0u8..3,
            any::<bool>(),
            0u8..5,
            any::<bool>(),
            proptest::bool::weighted(0.2),
        ),
        (
            0u8..6,
            0u8..3,
            proptest::bool::weighted(0.2),
            0u8..8,
            proptest::bool::weighted(0.1),
        ),
        (
            0u8..5,
            proptest::collection::vec(0..TELECOMS.len(), 0..=3),
            proptest::option::weighted(0.5, name()),
            proptest::option::weighted(0.3, (name(), ts())),
            proptest::option::weighted(0.2, name()),
            0u8..4,
        ),
    )
        .prop_map(
            |(
                encoding,
                npfit_local,
                nhs_invalid,
                block_attrs,
                title_ws,
                (entry_rot, section_codes, alias, gender_hl7, conf_vs_oid),
                (enc_shape, cust_root, cust_lower, birth_missing, gender_null),
                (addr, telecoms, responsible, authenticator, enterer, demog),
            )| Extras {
                demog,
                addr,
                telecoms,
                responsible,
                authenticator,
                enterer,
                enc_shape: enc_shape.saturating_sub(3),
                cust_root,
                cust_lower,
                birth_missing: birth_missing.saturating_sub(5),
                gender_null,
                encoding,
                npfit_local,
                nhs_invalid,
                block_attrs,
                title_ws,
                entry_rot,
                section_codes,
                alias: alias.min(3),
                gender_hl7,
                conf_vs_oid,
            },
        )
}

#[derive(Debug, Clone)]
struct Doc {
    x: Extras,
    /// `None`: default namespace; `Some(p)`: every hl7 element prefixed.
    hl7: Option<&'static str>,
    npfit: &'static str,
    legacy: bool,
    crlf: bool,
    tabs: bool,
    /// Narrative children in the default namespace via a redundant
    /// `xmlns` on `<text>` (prefixed documents only).
    text_default_ns: bool,
    ids: [u128; 6],
    effective: Ts,
    author_time: Ts,
    confidentiality: &'static str,
    nhs_verified: bool,
    nhs: String,
    local_id: bool,
    patient: Name,
    gender: &'static str,
    birth: Ts,
    gp: Option<Gp>,
    author: Name,
    author_ids: bool,
    author_role: bool,
    custodian: String,
    custodian_name: Option<Txt>,
    recipient_person: Option<Name>,
    encounter_id: bool,
    enc_low: Ts,
    /// 0 value, 1 nullFlavor UNK, 2 absent.
    enc_high: (u8, Ts),
    facility: bool,
    outer: u8,
    sections: Vec<Sec>,
    comment_before_root: bool,
}

// ---------------------------------------------------------------------------
// Vocabularies (fictional)
// ---------------------------------------------------------------------------

const WORDS: &[&str] = &[
    "patient",
    "admitted",
    "via",
    "emergency",
    "department",
    "with",
    "worsening",
    "breathlessness",
    "and",
    "productive",
    "cough",
    "treated",
    "intravenous",
    "antibiotics",
    "oxygen",
    "therapy",
    "improved",
    "steadily",
    "mobilising",
    "independently",
    "discharge",
    "home",
    "follow",
    "clinic",
    "weeks",
    "review",
    "bloods",
    "renal",
    "function",
    "stable",
    "sodium",
    "potassium",
    "haemoglobin",
    "chest",
    "radiograph",
    "consolidation",
    "right",
    "lower",
    "lobe",
    "sputum",
    "culture",
    "negative",
    "physiotherapy",
    "assessment",
    "occupational",
    "wound",
    "healing",
    "well",
    "sutures",
    "removed",
    "district",
    "nurse",
    "dressing",
    "analgesia",
    "regular",
    "paracetamol",
    "stopped",
    "started",
    "reduced",
    "warfarin",
    "monitoring",
    "anticoagulation",
    "echocardiogram",
    "ejection",
    "fraction",
    "preserved",
    "falls",
    "risk",
    "delirium",
    "resolved",
    "capacity",
    "café",
    "naïve",
    "señora",
    "Zoë",
    "façade",
    "déjà",
    "Ångström",
    "Łódź",
    "Ælfric",
    "smörgåsbord",
    "£12.50",
    "5 mg",
    "37.8°C",
    "10⁹/L",
    "µmol/L",
    "→",
    "—",
    "–",
    "’",
    "“quoted”",
    "&",
    "<",
    ">",
    "a&b",
    "x<y",
    "Crohn’s",
    "O’Neill’s",
    "Sjögren",
    "10\u{a0}mg",
    "tab\there",
    "😀",
    "Zoë😀",
    "𝑥²",
    "ﬁbrosis",
    "Ménière’s",
    "well-being",
    "re-admission",
];

const GIVEN: &[&str] = &[
    "Amelia",
    "Hamish",
    "Zoë",
    "Siân",
    "Gráinne",
    "José",
    "Mary-Jane",
    "Oluwaseun",
    "Eilidh",
    "Björn",
    "Keziah",
    "Tomás",
    "Priyanka",
    "Łucja",
    "Rhodri",
];
const FAMILY: &[&str] = &[
    "Ashdown",
    "Brierley",
    "O’Hanlon",
    "Núñez",
    "Featherstone",
    "Smith-Jones",
    "D'Arcy",
    "Wrenfield",
    "Kowalczyk",
    "MacAllister",
    "Oyelaran",
    "de la Mare",
];
const PREFIX: &[&str] = &["Mr", "Mrs", "Ms.", "Miss", "Dr", "Prof", "Rev", "Mx"];
const SUFFIX: &[&str] = &["OBE", "Jr", "MBE", "PhD", "III"];

const TITLES: &[&str] = &[
    // 2015 eDischarge headings
    "GP Name",
    "Admission Details",
    "Method of Admission",
    "Source of Admission",
    "Hospital Site",
    "Responsible Trust",
    "Date of Admission",
    "Discharge Details",
    "Date of Discharge",
    "Discharge Method",
    "Discharge Destination",
    "Discharging Consultant",
    "Discharging speciality/Department",
    "Clinical Information",
    "Diagnosis at discharge",
    "Operations and procedures",
    "Reason for Admission and Presenting Complaints",
    "Mental Capacity",
    "Advance decisions about treatment",
    "Allergies",
    "Clinical narrative",
    "Relevant investigations and results",
    "Measures of physical ability and cognitive function",
    "Medication Changes",
    "Discharge Medications",
    "Advice, recommendations and future plan",
    "Hospital",
    "GP",
    "Community and specialist services",
    "Results Awaited",
    // older and unusual ones
    "Summary of Care",
    "Pregnancy History",
    "Operative Course",
    "Medication on Discharge",
    "Ongoing Care",
    "Social Context",
    "Dietitian Notes",
    "Physio & OT Review",
    "Patient’s Reported Condition",
    "Résumé of Stay",
    "ADMISSION DETAILS",
    "Problems and Issues",
    "Safety Alerts",
    "Information given to patient",
    "Plan <interim>",
    "Observations and Findings",
    "Investigations (pending)",
    "Legal information",
    "Person completing record",
];

const STYLES: &[&str] = &[
    "Bold",
    "Italics",
    "Underline",
    "Emphasis",
    "Bold Italics",
    "xLarge",
];

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn pick(v: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(v)
}

fn txt(v: &'static [&'static str]) -> impl Strategy<Value = Txt> + Clone {
    (pick(v), 0u8..3).prop_map(|(s, refs)| Txt {
        s: s.to_string(),
        refs,
    })
}

fn words(min: usize, max: usize) -> impl Strategy<Value = Vec<Txt>> + Clone {
    proptest::collection::vec(txt(WORDS), min..=max)
}

fn ts() -> impl Strategy<Value = Ts> {
    (
        (1990u16..2030, 1u8..=12, 1u8..=31).prop_map(|(y, m, d)| {
            // Real month lengths, 29 February in leap years.
            let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
            let last = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            (y, m, d.min(last))
        }),
        (0u8..24, 0u8..60, 0u8..60),
        pick(&["1", "25", "123", "4567"]),
        prop_oneof![
            Just(Shape::Date),
            Just(Shape::Minutes),
            Just(Shape::Seconds),
            Just(Shape::Fraction),
            Just(Shape::Hours)
        ],
        0u8..40,
        pick(&[
            "", "", "+00", "+01", "+0000", "+0100", "-0500", "+0530", "-03",
        ]),
    )
        .prop_map(|(date, time, frac, shape, year, offset)| Ts {
            date,
            time,
            frac,
            // `YYYY` alone is rare (legacy-inputs.md §9: 1 in 969).
            shape: if year == 0 { Shape::Year } else { shape },
            offset,
        })
}

fn birth() -> impl Strategy<Value = Ts> {
    (ts(), 0u8..8).prop_map(|(mut t, k)| {
        t.date.0 = 1920 + t.date.0 % 100;
        // Mostly YYYYMMDD; sometimes with a time (legacy-inputs.md §9).
        if k > 1 || matches!(t.shape, Shape::Year) {
            t.shape = Shape::Date;
        }
        t
    })
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        1 => (pick(PREFIX), txt(GIVEN), txt(FAMILY), 0u8..3).prop_map(|(p, g, f, refs)| {
            Name::Text(Txt { s: format!("{p} {} {}", g.s, f.s), refs })
        }),
        4 => (
            proptest::option::of(txt(PREFIX)),
            proptest::collection::vec(txt(GIVEN), 0..=3),
            proptest::option::weighted(0.9, txt(FAMILY)),
            proptest::option::weighted(0.2, txt(SUFFIX)),
            any::<bool>(),
            proptest::option::weighted(0.3, pick(&["L", "P", "A"])),
        )
            .prop_map(|(prefix, given, family, suffix, family_first, use_attr)| Name::Parts {
                prefix,
                given,
                family,
                suffix,
                family_first,
                use_attr,
            }),
    ]
}

fn inline_leaf() -> impl Strategy<Value = Inline> + Clone {
    prop_oneof![
        8 => words(1, 12).prop_map(Inline::Words),
        2 => Just(Inline::Br),
        1 => txt(WORDS).prop_map(Inline::Sub),
        1 => txt(WORDS).prop_map(Inline::Sup),
        1 => words(1, 5).prop_map(Inline::Footnote),
        1 => words(1, 4).prop_map(Inline::Link),
        1 => Just(Inline::Media),
        1 => Just(Inline::Comment),
        1 => Just(Inline::Pi),
        1 => words(1, 5).prop_map(Inline::Cdata),
        1 => any::<bool>().prop_map(Inline::Newline),
    ]
}

fn inlines() -> impl Strategy<Value = Vec<Inline>> + Clone {
    let leaf = inline_leaf();
    let one = leaf.prop_recursive(2, 8, 4, |inner| {
        (
            proptest::option::of(pick(STYLES)),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(inner, 1..=4),
        )
            .prop_map(|(style, id, coded, inner)| Inline::Content {
                style,
                id,
                coded: id && coded,
                inner,
            })
    });
    proptest::collection::vec(one, 1..=4)
}

fn cell(th: bool) -> impl Strategy<Value = Cell> {
    (
        proptest::option::weighted(0.15, 2u8..=3),
        proptest::option::weighted(0.1, 2u8..=3),
        inlines(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(move |(colspan, rowspan, content, para)| Cell {
            th,
            colspan,
            rowspan,
            content,
            para,
        })
}

fn rows(th: bool, min: usize, max: usize) -> impl Strategy<Value = Vec<Vec<Cell>>> {
    proptest::collection::vec(proptest::collection::vec(cell(th), 1..=4), min..=max)
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        5 => (proptest::option::weighted(0.1, words(1, 3)), inlines())
            .prop_map(|(c, i)| Block::Para(c, i)),
        2 => (
            proptest::option::of(pick(&["unordered", "ordered"])),
            proptest::option::weighted(0.2, words(1, 4)),
            proptest::collection::vec(inlines(), 1..=5),
            proptest::option::weighted(0.2, proptest::collection::vec(words(1, 4), 1..=3)),
        )
            .prop_map(|(ordered, caption, items, sub)| Block::List { ordered, caption, items, sub }),
        2 => (
            proptest::option::weighted(0.3, words(1, 4)),
            rows(true, 0, 1),
            rows(false, 1, 3),
            rows(false, 0, 1),
            any::<bool>(),
        )
            .prop_map(|(caption, head, body, foot, border)| Block::Table {
                caption,
                head,
                body,
                foot,
                border,
            }),
        2 => inlines().prop_map(Block::Bare),
    ]
}

fn narr() -> impl Strategy<Value = Narr> {
    prop_oneof![
        1 => Just(Narr::Absent),
        1 => Just(Narr::Empty),
        5 => proptest::collection::vec(block(), 1..=3).prop_map(Narr::Blocks),
    ]
}

fn title() -> impl Strategy<Value = Title> {
    prop_oneof![
        10 => txt(TITLES).prop_map(Title::Text),
        1 => Just(Title::Empty),
        1 => Just(Title::Absent),
        1 => pick(&["UNK", "NI", "NA"]).prop_map(Title::Null),
    ]
}

fn section(depth: u32) -> BoxedStrategy<Sec> {
    // Depth 1–3, now and then 4 (legacy-inputs.md §4.3: up to 4 in samples).
    let kids = match depth {
        1 | 2 => proptest::collection::vec(section(depth + 1), 0..=2).boxed(),
        3 => proptest::collection::vec(section(depth + 1), 0..=1)
            .prop_map(|mut v| {
                v.truncate(usize::from(
                    v.first().is_some_and(|s| matches!(s.title, Title::Text(_))),
                ));
                v
            })
            .boxed(),
        _ => Just(Vec::new()).boxed(),
    };
    (title(), narr(), kids)
        .prop_map(|(title, text, children)| {
            let mut s = Sec {
                title,
                text,
                children,
            };
            // crosswalk.md §6 step 4: a section with no narrative text in its
            // subtree contributes nothing (not even its title), so give such
            // sections a sentence; empty holders with text below stay empty.
            if !sec_has_text(&s) {
                let ws = ["Nothing", "further", "recorded"].map(|w| Txt {
                    s: w.to_string(),
                    refs: 0,
                });
                s.text = Narr::Blocks(vec![Block::Para(None, vec![Inline::Words(ws.to_vec())])]);
            }
            s
        })
        .boxed()
}

fn inline_has_text(x: &Inline) -> bool {
    let any = |ws: &[Txt]| ws.iter().any(|w| !w.s.trim().is_empty());
    match x {
        Inline::Words(ws) | Inline::Footnote(ws) | Inline::Link(ws) | Inline::Cdata(ws) => any(ws),
        Inline::Sub(t) | Inline::Sup(t) => any(std::slice::from_ref(t)),
        Inline::Content { inner, .. } => inner.iter().any(inline_has_text),
        Inline::Br | Inline::Media | Inline::Comment | Inline::Pi | Inline::Newline(_) => false,
    }
}

fn block_has_text(b: &Block) -> bool {
    let cells = |rows: &[Vec<Cell>]| {
        rows.iter()
            .flatten()
            .any(|c| c.content.iter().any(inline_has_text))
    };
    match b {
        Block::Para(c, xs) => {
            c.as_ref().is_some_and(|c| !c.is_empty()) || xs.iter().any(inline_has_text)
        }
        Block::List { caption, items, .. } => {
            caption.as_ref().is_some_and(|c| !c.is_empty())
                || items.iter().flatten().any(inline_has_text)
        }
        Block::Table {
            caption,
            head,
            body,
            foot,
            ..
        } => {
            caption.as_ref().is_some_and(|c| !c.is_empty())
                || cells(head)
                || cells(body)
                || cells(foot)
        }
        Block::Bare(xs) => xs.iter().any(inline_has_text),
    }
}

fn sec_has_text(s: &Sec) -> bool {
    matches!(&s.text, Narr::Blocks(bs) if bs.iter().any(block_has_text))
        || s.children.iter().any(sec_has_text)
}

/// A 10-digit NHS number in the test range with a valid Mod-11 check digit.
fn nhs_number() -> impl Strategy<Value = String> {
    (0u32..1_000_000).prop_filter_map("check digit 10", |n| {
        let body = format!("999{n:06}");
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
            .sum();
        let check = (11 - sum % 11) % 11;
        (check != 10).then(|| format!("{body}{check}"))
    })
}

fn ods() -> impl Strategy<Value = String> {
    (pick(&["XZT", "XZC", "Z99"]), 0u16..100).prop_map(|(p, n)| format!("{p}{n:02}"))
}

fn doc() -> impl Strategy<Value = Doc> {
    let ns = (
        proptest::option::weighted(0.3, pick(&["hl7", "cda", "v3"])),
        pick(&["npfitlc", "npfitlc", "lcx", "NPFIT", "n1"]),
        proptest::bool::weighted(0.2),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<[u128; 6]>(),
        any::<bool>(),
    );
    let header = (
        ts(),
        ts(),
        pick(&["N", "R", "V"]),
        proptest::bool::weighted(0.75),
        nhs_number(),
        any::<bool>(),
        name(),
        pick(&["0", "1", "2", "9"]),
        birth(),
        proptest::option::weighted(
            0.8,
            (
                proptest::option::weighted(0.8, ods()),
                txt(&[
                    "Fenside Practice",
                    "The Willows & Elms Surgery",
                    "Llanfair Health Centre",
                    "Grünwald Medical Group",
                ]),
            )
                .prop_map(|(ods, name)| Gp { ods, name }),
        ),
    );
    let people = (
        name(),
        proptest::bool::weighted(0.8),
        any::<bool>(),
        ods(),
        proptest::option::weighted(
            0.8,
            txt(&[
                "Brackley Fen NHS Trust",
                "St Ælfric’s Hospital NHS Foundation Trust",
                "Moorside & District Hospitals",
            ]),
        ),
        proptest::option::of(name()),
        proptest::bool::weighted(0.8),
        ts(),
        (0u8..3, ts()),
        any::<bool>(),
        0u8..3,
    );
    let body = proptest::collection::vec(section(1), 1..=4);
    (ns, header, people, body, extras()).prop_map(
        |(
            (hl7, npfit, legacy, crlf, tabs, text_default_ns, ids, comment_before_root),
            (effective, author_time, conf, nhs_verified, nhs, local_id, patient, gender, birth, gp),
            (
                author,
                author_ids,
                author_role,
                custodian,
                custodian_name,
                recipient_person,
                encounter_id,
                enc_low,
                enc_high,
                facility,
                outer,
            ),
            sections,
            x,
        )| Doc {
            nhs: if x.nhs_invalid {
                // Last digit changed: fails Modulus 11 (discharge_03).
                let (body, last) = nhs.split_at(9);
                let d = last.parse::<u8>().unwrap_or(0);
                format!("{body}{}", (d + 1) % 10)
            } else {
                nhs
            },
            x,
            hl7,
            npfit,
            legacy,
            crlf,
            tabs,
            text_default_ns,
            ids,
            effective,
            author_time,
            confidentiality: if legacy { "0" } else { conf },
            nhs_verified,
            local_id,
            patient,
            gender,
            birth,
            gp,
            author,
            author_ids,
            author_role,
            custodian,
            custodian_name,
            recipient_person,
            encounter_id,
            enc_low: Ts {
                date: (enc_low.date.0, enc_low.date.1, enc_low.date.2.min(20)),
                ..enc_low.clone()
            },
            // Discharge after admission (per-1): a later day, any shape.
            enc_high: (
                enc_high.0,
                Ts {
                    date: (
                        enc_low.date.0,
                        enc_low.date.1,
                        enc_low.date.2.min(20) + 1 + enc_high.1.date.2 % 8,
                    ),
                    ..enc_high.1
                },
            ),
            facility,
            outer,
            sections,
            comment_before_root,
        },
    )
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// Escape `t` for element content, non-ASCII as its style says.
fn esc(t: &Txt) -> String {
    let mut out = String::new();
    for ch in t.s.chars() {
        match ch {
            '&' => out.push_str(if t.refs == 2 { "&#38;" } else { "&amp;" }),
            '<' => out.push_str(if t.refs == 1 { "&#60;" } else { "&lt;" }),
            '>' => out.push_str("&gt;"),
            '\'' if t.refs == 1 => out.push_str("&apos;"),
            c if !c.is_ascii() && t.refs == 1 => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if !c.is_ascii() && t.refs == 2 => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn uuid(n: u128) -> String {
    let h = format!("{n:032X}");
    format!(
        "{}-{}-5{}-A{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

struct W<'d> {
    d: &'d Doc,
    out: String,
    depth: usize,
    /// Narrative element prefix (may differ from the header's inside `<text>`).
    nprefix: String,
    next_id: usize,
    /// Coded entries to write: (content ID).
    coded: Vec<String>,
}

impl W<'_> {
    fn p(&self) -> String {
        self.d.hl7.map(|p| format!("{p}:")).unwrap_or_default()
    }
    fn nl(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str(if self.d.tabs { "\t" } else { "  " });
        }
    }
    fn line(&mut self, s: &str) {
        self.nl();
        self.out.push_str(s);
    }
    fn open(&mut self, name: &str, attrs: &str) {
        let p = self.p();
        self.line(&format!("<{p}{name}{attrs}>"));
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        let p = self.p();
        self.line(&format!("</{p}{name}>"));
    }
    fn empty(&mut self, name: &str, attrs: &str) {
        let p = self.p();
        self.line(&format!("<{p}{name}{attrs}/>"));
    }
    fn leaf(&mut self, name: &str, attrs: &str, text: &str) {
        let p = self.p();
        self.line(&format!("<{p}{name}{attrs}>{text}</{p}{name}>"));
    }
    fn npf(&mut self, name: &str, root: &str, ext: &str) {
        let n = self.d.npfit;
        let decl = if self.d.x.npfit_local {
            format!(" xmlns:{n}=\"NPFIT:HL7:Localisation\"")
        } else {
            String::new()
        };
        self.line(&format!(
            "<{n}:{name}{decl} root=\"{root}\" extension=\"{ext}\"/>"
        ));
    }
    /// Class template: `npfitlc:contentId` + `templateId` (or, legacy,
    /// `templateId`/`typeId` with `.`).
    fn template(&mut self, ext: &str, content_id: bool) {
        if self.d.legacy {
            let e = ext.replace('#', ".");
            self.empty(
                "typeId",
                &format!(" root=\"2.16.840.1.113883.1.3\" extension=\"{e}\""),
            );
        } else {
            if content_id {
                self.npf("contentId", "2.16.840.1.113883.2.1.3.2.4.18.16", ext);
            }
            self.empty(
                "templateId",
                &format!(" root=\"2.16.840.1.113883.2.1.3.2.4.18.2\" extension=\"{ext}\""),
            );
        }
    }

    fn name(&mut self, n: &Name) {
        match n {
            Name::Text(t) => self.leaf("name", "", &esc(t)),
            Name::Parts {
                prefix,
                given,
                family,
                suffix,
                family_first,
                use_attr,
            } => {
                let a = use_attr
                    .map(|u| format!(" use=\"{u}\""))
                    .unwrap_or_default();
                self.open("name", &a);
                if let (true, Some(f)) = (family_first, family) {
                    self.leaf("family", "", &esc(f));
                }
                if let Some(p) = prefix {
                    self.leaf("prefix", "", &esc(p));
                }
                for g in given {
                    self.leaf("given", "", &esc(g));
                }
                if let (false, Some(f)) = (family_first, family) {
                    self.leaf("family", "", &esc(f));
                }
                if let Some(s) = suffix {
                    self.leaf("suffix", "", &esc(s));
                }
                self.close("name");
            }
        }
    }

    fn header(&mut self) {
        let d = self.d;
        if !d.legacy {
            self.npf(
                "messageType",
                "2.16.840.1.113883.2.1.3.2.4.18.17",
                "POCD_MT150001UK06",
            );
        }
        self.empty("id", &format!(" root=\"{}\"", uuid(d.ids[0])));
        self.empty("code", " code=\"163391000000107\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\" displayName=\"Discharge from Inpatient Care\"");
        self.leaf("title", "", "Discharge from Inpatient Care");
        self.empty(
            "effectiveTime",
            &format!(" value=\"{}\"", d.effective.render()),
        );
        let conf = if d.legacy {
            " code=\"0\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.17.158\" displayName=\"Not sealed\"".to_string()
        } else {
            let system = if d.x.conf_vs_oid {
                "2.16.840.1.113883.1.11.16926"
            } else {
                "2.16.840.1.113883.5.25"
            };
            format!(" code=\"{}\" codeSystem=\"{system}\"", d.confidentiality)
        };
        self.empty("confidentialityCode", &conf);
        self.empty("setId", &format!(" root=\"{}\"", uuid(d.ids[1])));
        self.empty("versionNumber", " value=\"1\"");

        // recordTarget
        self.open(
            "recordTarget",
            " typeCode=\"RCT\" contextControlCode=\"OP\"",
        );
        self.template("COCD_TP145201GB01#PatientRole", true);
        self.open("patientRole", " classCode=\"PAT\"");
        let root = if d.nhs_verified {
            "2.16.840.1.113883.2.1.4.1"
        } else {
            "2.16.840.1.113883.2.1.3.2.4.18.23"
        };
        self.empty("id", &format!(" root=\"{root}\" extension=\"{}\"", d.nhs));
        if d.local_id {
            self.empty("id", " root=\"2.16.840.1.113883.2.1.3.2.4.18.24\" extension=\"GEN-0042\" assigningAuthorityName=\"XZT01:Fictional Trust\"");
        }
        match d.x.addr {
            1 => {
                self.open("addr", " use=\"PHYS\"");
                self.leaf("houseNumber", "", "12");
                self.leaf("streetName", "", "Rope Walk");
                self.leaf("city", "", "Sometown");
                self.leaf("county", "", "Nowhereshire");
                self.leaf("postalCode", "", "zz99zz");
                self.leaf("country", "", "England");
                self.close("addr");
                self.open("addr", " use=\"TMP\"");
                self.leaf(
                    "streetAddressLine",
                    "",
                    "Ward 7, Fictional General Hospital",
                );
                self.close("addr");
            }
            2 => self.leaf(
                "addr",
                " use=\"H\"",
                "Flat 2, 5 Mill Lane<postalCode>ZZ9 9ZZ</postalCode>",
            ),
            3 => self.leaf("addr", "", "12 Rope Walk, Sometown"),
            4 => {
                self.open("addr", " use=\"HP\"");
                self.leaf("streetAddressLine", "", "3 Osier Walk");
                self.leaf("postalCode", "", "UNKNOWN");
                self.close("addr");
            }
            _ => {
                self.open("addr", " use=\"H\"");
                self.leaf("streetAddressLine", "", "3 Osier Walk");
                self.leaf("postalCode", "", "ZZ9 9ZZ");
                self.close("addr");
            }
        }
        for &i in &d.x.telecoms {
            let (value, use_) = TELECOMS[i];
            let u = if use_.is_empty() {
                String::new()
            } else {
                format!(" use=\"{use_}\"")
            };
            self.empty("telecom", &format!(" value=\"{value}\"{u}"));
        }
        self.open("patient", " classCode=\"PSN\" determinerCode=\"INSTANCE\"");
        let n = d.patient.clone();
        let alias = || Name::Parts {
            prefix: None,
            given: vec![Txt {
                s: "Bunny".into(),
                refs: 0,
            }],
            family: Some(Txt {
                s: "Alias".into(),
                refs: 0,
            }),
            suffix: None,
            family_first: false,
            use_attr: Some("P"),
        };
        if d.x.alias == 1 {
            self.name(&alias());
        }
        self.name(&n);
        if d.x.alias == 2 {
            self.name(&alias());
        }
        if d.x.alias == 3 {
            let mut second = alias();
            if let Name::Parts { use_attr, .. } = &mut second {
                *use_attr = None;
            }
            self.name(&second);
        }
        let gender = if d.x.gender_hl7 {
            let g = match d.gender {
                "1" => "M",
                "2" => "F",
                _ => "UN",
            };
            format!(" code=\"{g}\" codeSystem=\"2.16.840.1.113883.5.1\"")
        } else {
            format!(
                " code=\"{}\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.25\"",
                d.gender
            )
        };
        if d.x.gender_null {
            self.empty("administrativeGenderCode", " nullFlavor=\"UNK\"");
        } else {
            self.empty("administrativeGenderCode", &gender);
        }
        match d.x.birth_missing {
            0 => self.empty("birthTime", &format!(" value=\"{}\"", d.birth.render())),
            1 => {}
            _ => self.empty("birthTime", " nullFlavor=\"UNK\""),
        }
        if d.x.demog >= 1 {
            self.empty(
                "ethnicGroupCode",
                " code=\"A\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.81\" displayName=\"British, Mixed British\"",
            );
        }
        if d.x.demog >= 2 {
            let (code, shown) = if d.x.demog == 2 {
                ("13", "Father")
            } else {
                ("98", "Carer")
            };
            self.open("guardian", " classCode=\"GUARD\"");
            self.empty(
                "code",
                &format!(" code=\"{code}\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.45\" displayName=\"{shown}\""),
            );
            self.empty("telecom", " use=\"MC\" value=\"tel:07700900777\"");
            self.open(
                "guardianPerson",
                " classCode=\"PSN\" determinerCode=\"INSTANCE\"",
            );
            self.open("name", "");
            self.leaf("given", "", "Aldous");
            self.leaf("family", "", "Pemberton");
            self.close("name");
            self.close("guardianPerson");
            self.close("guardian");
        }
        if d.x.demog >= 1 {
            self.open("languageCommunication", "");
            self.empty("languageCode", " code=\"en\"");
            self.empty("preferenceInd", " value=\"true\"");
            self.close("languageCommunication");
        }
        self.close("patient");
        if let Some(gp) = &d.gp {
            self.open(
                "providerOrganization",
                " classCode=\"ORG\" determinerCode=\"INSTANCE\"",
            );
            if let Some(o) = &gp.ods {
                self.empty(
                    "id",
                    &format!(" root=\"2.16.840.1.113883.2.1.3.2.4.19.1\" extension=\"{o}\""),
                );
            }
            self.leaf("name", "", &esc(&gp.name));
            self.empty("standardIndustryClassCode", " code=\"001\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.17.289\" displayName=\"GP Practice\"");
            self.close("providerOrganization");
        }
        self.close("patientRole");
        self.close("recordTarget");

        // author
        self.open("author", " typeCode=\"AUT\" contextControlCode=\"OP\"");
        self.template("COCD_TP145200GB01#AssignedAuthor", true);
        self.empty("functionCode", " code=\"OA\" displayName=\"Originating Author\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.17.178\"");
        self.empty("time", &format!(" value=\"{}\"", d.author_time.render()));
        self.open("assignedAuthor", " classCode=\"ASSIGNED\"");
        if d.author_ids {
            self.empty(
                "id",
                " root=\"1.2.826.0.1285.0.2.0.67\" extension=\"555035556667\"",
            );
            self.empty(
                "id",
                " root=\"1.2.826.0.1285.0.2.0.65\" extension=\"555015556667\"",
            );
        } else {
            self.empty("id", " nullFlavor=\"NI\"");
        }
        if d.author_role {
            self.empty("code", " code=\"R0050\" displayName=\"Consultant\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.17.196\"");
        }
        self.open(
            "assignedPerson",
            " classCode=\"PSN\" determinerCode=\"INSTANCE\"",
        );
        let n = d.author.clone();
        self.name(&n);
        self.close("assignedPerson");
        self.open(
            "representedOrganization",
            " classCode=\"ORG\" determinerCode=\"INSTANCE\"",
        );
        self.empty(
            "id",
            &format!(
                " root=\"2.16.840.1.113883.2.1.3.2.4.19.1\" extension=\"{}\"",
                d.custodian
            ),
        );
        self.leaf("name", "", "Fictional Hospitals NHS Trust");
        self.close("representedOrganization");
        self.close("assignedAuthor");
        self.close("author");

        if let Some(n) = &d.x.enterer {
            self.open("dataEnterer", " typeCode=\"ENT\" contextControlCode=\"OP\"");
            self.open("assignedEntity", " classCode=\"ASSIGNED\"");
            self.empty("id", " nullFlavor=\"NI\"");
            self.open(
                "assignedPerson",
                " classCode=\"PSN\" determinerCode=\"INSTANCE\"",
            );
            self.name(n);
            self.close("assignedPerson");
            self.close("assignedEntity");
            self.close("dataEnterer");
        }

        // custodian
        self.open("custodian", " typeCode=\"CST\"");
        self.template("COCD_TP145018UK03#AssignedCustodian", true);
        self.open("assignedCustodian", " classCode=\"ASSIGNED\"");
        self.open(
            "representedCustodianOrganization",
            " classCode=\"ORG\" determinerCode=\"INSTANCE\"",
        );
        let root = [
            "2.16.840.1.113883.2.1.3.2.4.19.1",
            "2.16.840.1.113883.2.1.3.2.4.19.2",
            "1.2.826.0.1285.0.1.10",
        ][usize::from(d.x.cust_root)];
        let code = if d.x.cust_lower {
            d.custodian.to_lowercase()
        } else {
            d.custodian.clone()
        };
        self.empty("id", &format!(" root=\"{root}\" extension=\"{code}\""));
        if let Some(n) = &d.custodian_name {
            self.leaf("name", "", &esc(n));
        }
        self.close("representedCustodianOrganization");
        self.close("assignedCustodian");
        self.close("custodian");

        // informationRecipient
        self.open("informationRecipient", " typeCode=\"PRCP\"");
        self.template("COCD_TP145202GB01#IntendedRecipient", true);
        self.open("intendedRecipient", " classCode=\"ASSIGNED\"");
        if let Some(p) = d.recipient_person.clone() {
            self.empty(
                "id",
                " root=\"1.2.826.0.1285.0.2.0.65\" extension=\"555098760055\"",
            );
            self.open(
                "informationRecipient",
                " classCode=\"PSN\" determinerCode=\"INSTANCE\"",
            );
            self.name(&p);
            self.close("informationRecipient");
        } else {
            self.empty("id", " nullFlavor=\"NA\"");
        }
        self.open(
            "receivedOrganization",
            " classCode=\"ORG\" determinerCode=\"INSTANCE\"",
        );
        let gp_ods =
            d.gp.as_ref()
                .and_then(|g| g.ods.clone())
                .unwrap_or_else(|| "Z99999".into());
        self.empty(
            "id",
            &format!(" root=\"2.16.840.1.113883.2.1.3.2.4.19.1\" extension=\"{gp_ods}\""),
        );
        self.leaf("name", "", "Receiving Practice");
        self.close("receivedOrganization");
        self.close("intendedRecipient");
        self.close("informationRecipient");

        if let Some((n, t)) = &d.x.authenticator {
            self.open(
                "legalAuthenticator",
                " typeCode=\"LA\" contextControlCode=\"OP\"",
            );
            self.empty("time", &format!(" value=\"{}\"", t.render()));
            self.empty("signatureCode", " code=\"S\"");
            self.open("assignedEntity", " classCode=\"ASSIGNED\"");
            self.empty(
                "id",
                " root=\"1.2.826.0.1285.0.2.0.65\" extension=\"555044443333\"",
            );
            self.open(
                "assignedPerson",
                " classCode=\"PSN\" determinerCode=\"INSTANCE\"",
            );
            self.name(n);
            self.close("assignedPerson");
            self.close("assignedEntity");
            self.close("legalAuthenticator");
        }

        // componentOf
        self.open("componentOf", " typeCode=\"COMP\"");
        self.template("COCD_TP146060UK01#EncompassingEncounter", true);
        self.open(
            "encompassingEncounter",
            " classCode=\"ENC\" moodCode=\"EVN\"",
        );
        if d.encounter_id {
            self.empty("id", &format!(" root=\"{}\"", uuid(d.ids[2])));
        } else {
            self.empty("id", " nullFlavor=\"NI\"");
        }
        self.empty("code", " code=\"11429006\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\" displayName=\"Consultation\"");
        match d.x.enc_shape {
            1 => {
                self.open("effectiveTime", "");
                self.empty("center", &format!(" value=\"{}\"", d.enc_low.render()));
                self.close("effectiveTime");
            }
            2 => self.empty(
                "effectiveTime",
                &format!(" value=\"{}\"", d.enc_low.render()),
            ),
            _ => {
                self.open("effectiveTime", "");
                self.empty("low", &format!(" value=\"{}\"", d.enc_low.render()));
                match d.enc_high.0 {
                    0 => self.empty("high", &format!(" value=\"{}\"", d.enc_high.1.render())),
                    1 => self.empty("high", " nullFlavor=\"UNK\""),
                    _ => {}
                }
                self.close("effectiveTime");
            }
        }
        self.empty("dischargeDispositionCode", " nullFlavor=\"NA\"");
        if let Some(n) = &d.x.responsible {
            self.open("responsibleParty", " typeCode=\"RESP\"");
            self.template("COCD_TP145210GB01#AssignedEntity", true);
            self.open("assignedEntity", " classCode=\"ASSIGNED\"");
            if d.author_ids {
                self.empty(
                    "id",
                    " root=\"1.2.826.0.1285.0.2.0.65\" extension=\"555012120000\"",
                );
            } else {
                self.empty("id", " nullFlavor=\"NI\"");
            }
            self.empty("code", " code=\"R0050\" displayName=\"Consultant\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.17.196\"");
            self.open(
                "assignedPerson",
                " classCode=\"PSN\" determinerCode=\"INSTANCE\"",
            );
            self.name(n);
            self.close("assignedPerson");
            self.open(
                "representedOrganization",
                " classCode=\"ORG\" determinerCode=\"INSTANCE\"",
            );
            self.empty(
                "id",
                &format!(
                    " root=\"2.16.840.1.113883.2.1.3.2.4.19.1\" extension=\"{}\"",
                    d.custodian
                ),
            );
            self.close("representedOrganization");
            self.close("assignedEntity");
            self.close("responsibleParty");
        }
        if d.facility {
            self.open("location", " typeCode=\"LOC\"");
            self.open("healthCareFacility", " classCode=\"SDLOC\"");
            self.empty("id", " nullFlavor=\"NA\"");
            self.empty("code", " code=\"309904001\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\" displayName=\"Intensive care unit\"");
            self.close("healthCareFacility");
            self.close("location");
        }
        self.close("encompassingEncounter");
        self.close("componentOf");
    }

    // --- narrative (written on one logical line, as real documents do) ---

    fn n_open(&mut self, name: &str, attrs: &str) {
        let p = self.nprefix.clone();
        let _ = write!(self.out, "<{p}{name}{attrs}>");
    }
    fn n_close(&mut self, name: &str) {
        let p = self.nprefix.clone();
        let _ = write!(self.out, "</{p}{name}>");
    }
    fn n_words(&mut self, ws: &[Txt]) {
        let s: Vec<String> = ws.iter().map(esc).collect();
        self.out.push_str(&s.join(" "));
    }
    fn n_inlines(&mut self, xs: &[Inline]) {
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            self.n_inline(x);
        }
    }
    fn n_inline(&mut self, x: &Inline) {
        match x {
            Inline::Words(ws) => self.n_words(ws),
            Inline::Content {
                style,
                id,
                coded,
                inner,
            } => {
                let mut a = String::new();
                if *id {
                    self.next_id += 1;
                    let id = format!("g{}", self.next_id);
                    let _ = write!(a, " ID=\"{id}\"");
                    if *coded {
                        self.coded.push(id);
                    }
                }
                if let Some(s) = style {
                    let _ = write!(a, " styleCode=\"{s}\"");
                }
                self.n_open("content", &a);
                self.n_inlines(inner);
                self.n_close("content");
            }
            Inline::Br => {
                let p = self.nprefix.clone();
                let _ = write!(self.out, "<{p}br/>");
            }
            Inline::Sub(t) => {
                self.n_open("sub", "");
                self.out.push_str(&esc(t));
                self.n_close("sub");
            }
            Inline::Sup(t) => {
                self.n_open("sup", "");
                self.out.push_str(&esc(t));
                self.n_close("sup");
            }
            Inline::Footnote(ws) => {
                self.next_id += 1;
                let a = format!(" ID=\"fn{}\"", self.next_id);
                self.n_open("footnote", &a);
                self.n_words(ws);
                self.n_close("footnote");
            }
            Inline::Link(ws) => {
                self.n_open(
                    "linkHtml",
                    " href=\"https://example.org/leaflet?id=1&amp;v=2\"",
                );
                self.n_words(ws);
                self.n_close("linkHtml");
            }
            Inline::Media => {
                let p = self.nprefix.clone();
                let _ = write!(self.out, "<{p}renderMultiMedia referencedObject=\"MM1\"/>");
            }
            Inline::Comment => self.out.push_str("<!-- reviewed on ward round -->"),
            Inline::Pi => self.out.push_str("<?xml-stylesheet href=\"ward.xsl\"?>"),
            Inline::Cdata(ws) => {
                let s: Vec<&str> = ws.iter().map(|t| t.s.as_str()).collect();
                let _ = write!(self.out, "<![CDATA[{}]]>", s.join(" "));
            }
            Inline::Newline(crlf) => self.out.push_str(if *crlf { "\r\n\t" } else { "\n  " }),
        }
    }
    fn n_caption(&mut self, c: &Option<Vec<Txt>>) {
        if let Some(ws) = c {
            self.n_open("caption", "");
            self.n_words(ws);
            self.n_close("caption");
        }
    }
    fn n_rows(&mut self, group: &str, rows: &[Vec<Cell>]) {
        if rows.is_empty() {
            return;
        }
        self.n_open(group, "");
        for r in rows {
            self.n_open("tr", "");
            for c in r {
                let tag = if c.th { "th" } else { "td" };
                let mut a = String::new();
                if let Some(n) = c.colspan {
                    let _ = write!(a, " colspan=\"{n}\"");
                }
                if let Some(n) = c.rowspan {
                    let _ = write!(a, " rowspan=\"{n}\"");
                }
                self.n_open(tag, &a);
                if c.para {
                    self.n_open("paragraph", "");
                }
                self.n_inlines(&c.content);
                if c.para {
                    self.n_close("paragraph");
                }
                self.n_close(tag);
            }
            self.n_close("tr");
        }
        self.n_close(group);
    }
    fn block_attrs(&mut self, kind: &str) -> String {
        if !self.d.x.block_attrs {
            return String::new();
        }
        self.next_id += 1;
        let style = ["Toprule", "Botrule", "Lrule", "Rrule", "Bold"][self.next_id % 5];
        format!(" ID=\"{kind}{}\" styleCode=\"{style}\"", self.next_id)
    }
    fn n_block(&mut self, b: &Block) {
        match b {
            Block::Para(c, xs) => {
                let a = self.block_attrs("p");
                self.n_open("paragraph", &a);
                self.n_caption(c);
                self.n_inlines(xs);
                self.n_close("paragraph");
            }
            Block::List {
                ordered,
                caption,
                items,
                sub,
            } => {
                let mut a = ordered
                    .map(|o| format!(" listType=\"{o}\""))
                    .unwrap_or_default();
                a.push_str(&self.block_attrs("l"));
                self.n_open("list", &a);
                self.n_caption(caption);
                for (i, it) in items.iter().enumerate() {
                    self.n_open("item", "");
                    self.n_inlines(it);
                    if let (Some(sub), true) = (sub, i + 1 == items.len()) {
                        self.n_open("list", " listType=\"ordered\"");
                        for ws in sub {
                            self.n_open("item", "");
                            self.n_words(ws);
                            self.n_close("item");
                        }
                        self.n_close("list");
                    }
                    self.n_close("item");
                }
                self.n_close("list");
            }
            Block::Table {
                caption,
                head,
                body,
                foot,
                border,
            } => {
                let mut a = if *border {
                    " border=\"1\" width=\"100%\"".to_string()
                } else {
                    String::new()
                };
                a.push_str(&self.block_attrs("t"));
                self.n_open("table", &a);
                self.n_caption(caption);
                if self.d.x.block_attrs {
                    let p = self.nprefix.clone();
                    let _ = write!(
                        self.out,
                        "<{p}col width=\"30%\"/><{p}colgroup span=\"2\"><{p}col/></{p}colgroup>"
                    );
                }
                self.n_rows("thead", head);
                self.n_rows("tfoot", foot);
                self.n_rows("tbody", body);
                self.n_close("table");
            }
            Block::Bare(xs) => self.n_inlines(xs),
        }
    }

    fn section(&mut self, s: &Sec, level: usize) {
        self.open(
            "component",
            " typeCode=\"COMP\" contextConductionInd=\"true\"",
        );
        let tp = ["Section1", "section2", "section3", "section4"][level.min(3)];
        let tp = format!("COCD_TP146061UK01#{tp}");
        if !self.d.legacy {
            self.npf("contentId", "2.16.840.1.113883.2.1.3.2.4.18.16", &tp);
        }
        self.open("section", " classCode=\"DOCSECT\" moodCode=\"EVN\"");
        self.template(&tp, false);
        self.next_id += 1;
        let sid = uuid(self.d.ids[3] ^ self.next_id as u128);
        self.empty("id", &format!(" root=\"{sid}\""));
        if self.d.x.section_codes && self.next_id.is_multiple_of(3) {
            let code = [
                "887181000000106",
                "933361000000108",
                "886921000000105",
                "38651000000103",
                "999999999999999",
            ][self.next_id % 5];
            self.empty(
                "code",
                &format!(" code=\"{code}\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\""),
            );
        }
        match &s.title {
            Title::Text(t) if self.d.x.title_ws => {
                let ws = esc(t).replace(' ', "  \n\t ");
                self.leaf("title", "", &format!("\n\t\t{ws}\n\t"))
            }
            Title::Text(t) => self.leaf("title", "", &esc(t)),
            Title::Empty => self.empty("title", ""),
            Title::Absent => {}
            Title::Null(n) => self.empty("title", &format!(" nullFlavor=\"{n}\"")),
        }
        match &s.text {
            Narr::Absent => {}
            Narr::Empty => self.empty(
                "text",
                " mediaType=\"text/x-hl7-text+xml\" xsi:type=\"StrucDoc.Text\"",
            ),
            Narr::Blocks(bs) => {
                let p = self.p();
                let redundant = self.d.hl7.is_some() && self.d.text_default_ns;
                let a = if redundant {
                    " xmlns=\"urn:hl7-org:v3\""
                } else {
                    ""
                };
                self.line(&format!("<{p}text{a}>"));
                self.nprefix = if redundant { String::new() } else { p.clone() };
                for b in bs {
                    self.n_block(b);
                }
                let _ = write!(self.out, "</{p}text>");
                self.nprefix = p;
            }
        }
        for c in &s.children {
            self.section(c, level + 1);
        }
        self.close("section");
        self.close("component");
    }

    fn reference(&mut self, id: &str) {
        self.open("originalText", "");
        self.empty("reference", &format!(" value=\"#{id}\""));
        self.close("originalText");
    }

    fn entries(&mut self) {
        let ids = std::mem::take(&mut self.coded);
        const SNOMED: &str = "2.16.840.1.113883.2.1.3.2.4.15";
        for (i, id) in ids.iter().enumerate() {
            let eid = format!(" root=\"{}\"", uuid(self.d.ids[4] ^ i as u128));
            let when = format!(" value=\"{}\"", self.d.enc_low.render());
            let rot = i + usize::from(self.d.x.entry_rot);
            // Real systems leave out displayName now and then, and not every
            // coded entry points into the narrative (crosswalk §4.3: the
            // profiles make Coding.display 1..1, so such an entry must still
            // convert, its code carried as text or, for a product, narrative
            // only).
            let display = |name: &str| {
                if rot % 5 == 4 {
                    String::new()
                } else {
                    format!(" displayName=\"{name}\"")
                }
            };
            let linked = rot % 7 != 6;
            self.open("entry", " typeCode=\"COMP\" contextConductionInd=\"true\"");
            match rot % 4 {
                0 => {
                    self.template("COCD_TP146012UK04#Finding", true);
                    self.open("observation", " classCode=\"OBS\" moodCode=\"EVN\"");
                    self.empty("id", &eid);
                    let code = if i % 4 == 3 {
                        " nullFlavor=\"UNK\"".to_string()
                    } else {
                        format!(
                            " code=\"420422005\" codeSystem=\"{SNOMED}\"{}",
                            display("Fictional finding")
                        )
                    };
                    self.open("code", &code);
                    if linked {
                        self.reference(id);
                    }
                    self.close("code");
                    self.empty("statusCode", " code=\"completed\"");
                    self.empty("effectiveTime", &when);
                    self.close("observation");
                }
                1 => {
                    self.template("COCD_TP146027UK04#Treatment", true);
                    self.open("procedure", " classCode=\"PROC\" moodCode=\"EVN\"");
                    self.empty("id", &eid);
                    self.open(
                        "code",
                        &format!(
                            " code=\"387713003\" codeSystem=\"{SNOMED}\"{}",
                            display("Fictional procedure")
                        ),
                    );
                    if linked {
                        self.reference(id);
                    }
                    self.close("code");
                    self.empty("statusCode", " code=\"completed\"");
                    self.empty("effectiveTime", &when);
                    self.close("procedure");
                }
                2 => {
                    self.template("COCD_TP146011UK04#Diagnosis", true);
                    self.open("observation", " classCode=\"OBS\" moodCode=\"EVN\"");
                    self.empty("id", &eid);
                    self.empty(
                        "code",
                        &format!(" code=\"282291009\" codeSystem=\"{SNOMED}\" displayName=\"Diagnosis interpretation\""),
                    );
                    self.empty("statusCode", " code=\"completed\"");
                    self.empty("effectiveTime", &when);
                    self.open(
                        "value",
                        &format!(
                            " xsi:type=\"CV\" code=\"38341003\" codeSystem=\"{SNOMED}\"{}",
                            display("Fictional diagnosis")
                        ),
                    );
                    if linked {
                        self.reference(id);
                    }
                    self.close("value");
                    self.close("observation");
                }
                _ => {
                    self.template("COCD_TP146033UK04#SupplyMedication", true);
                    self.open("supply", " classCode=\"SPLY\" moodCode=\"EVN\"");
                    self.empty("id", &eid);
                    self.empty(
                        "code",
                        &format!(" code=\"373784005\" codeSystem=\"{SNOMED}\" displayName=\"dispensing medication\""),
                    );
                    self.empty("effectiveTime", &when);
                    self.open("product", " typeCode=\"PRD\"");
                    self.open("manufacturedProduct", " classCode=\"MANU\"");
                    self.open(
                        "manufacturedMaterial",
                        " classCode=\"MMAT\" determinerCode=\"KIND\"",
                    );
                    let code = if i % 2 == 0 {
                        format!(
                            " code=\"605911000001102\" codeSystem=\"{SNOMED}\"{}",
                            display("Fictional tablets")
                        )
                    } else {
                        " nullFlavor=\"UNK\"".to_string()
                    };
                    self.open("code", &code);
                    if linked {
                        self.reference(id);
                    }
                    self.close("code");
                    self.close("manufacturedMaterial");
                    self.close("manufacturedProduct");
                    self.close("product");
                    self.close("supply");
                }
            }
            self.close("entry");
        }
    }
}

/// The document's bytes in its encoding.
fn render_bytes(d: &Doc) -> Vec<u8> {
    let text = render(d);
    match d.x.encoding {
        2 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        3 => {
            let mut b = vec![0xFF, 0xFE];
            b.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            b
        }
        _ => text.into_bytes(),
    }
}

fn render(d: &Doc) -> String {
    let mut w = W {
        d,
        out: String::new(),
        depth: 0,
        nprefix: String::new(),
        next_id: 0,
        coded: Vec::new(),
    };
    w.out.push_str(match d.x.encoding {
        1 => "<!-- no XML declaration -->",
        3 => "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
        _ => "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    });
    if d.comment_before_root {
        w.out
            .push_str("\n<!-- Synthetic generated test document; all content fictional. -->");
    }
    let p = w.p();
    let hl7 = match d.hl7 {
        Some(px) => format!("xmlns:{px}=\"urn:hl7-org:v3\""),
        None => "xmlns=\"urn:hl7-org:v3\"".to_string(),
    };
    w.out.push_str(&format!(
        "\n<{p}ClinicalDocument {hl7}{} xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" classCode=\"DOCCLIN\" moodCode=\"EVN\">",
        if d.x.npfit_local {
            String::new()
        } else {
            format!(" xmlns:{}=\"NPFIT:HL7:Localisation\"", d.npfit)
        }
    ));
    w.depth = 1;
    w.empty(
        "typeId",
        " root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"",
    );
    w.header();

    // Body: render the section tree first (it numbers the content IDs and
    // collects the coded ones), then splice the entries in front of it.
    let mut body = W {
        d,
        out: String::new(),
        depth: w.depth + 2 + usize::from(d.outer > 0) * 2,
        nprefix: String::new(),
        next_id: 0,
        coded: Vec::new(),
    };
    for s in &d.sections {
        body.section(s, 0);
    }
    let mut ent = W {
        d,
        out: String::new(),
        depth: w.depth + 4,
        nprefix: String::new(),
        next_id: 0,
        coded: std::mem::take(&mut body.coded),
    };
    ent.entries();

    w.open(
        "component",
        " typeCode=\"COMP\" contextConductionInd=\"true\"",
    );
    w.open("structuredBody", " classCode=\"DOCBODY\" moodCode=\"EVN\"");
    if d.outer > 0 {
        w.open(
            "component",
            " typeCode=\"COMP\" contextConductionInd=\"true\"",
        );
        w.open("section", " classCode=\"DOCSECT\" moodCode=\"EVN\"");
        w.empty("id", &format!(" root=\"{}\"", uuid(d.ids[5])));
        // Now and then a titled outer section (no text of its own).
        if d.ids[5].is_multiple_of(4) {
            let t = [
                "Discharge Summary",
                "Inpatient Discharge",
                "Clinical Summary",
            ][(d.ids[5] % 3) as usize];
            w.leaf("title", "", t);
        }
        w.out.push_str(&ent.out);
        if d.outer == 2 {
            // The ITK sample's classification section inside the outer one.
            w.open(
                "component",
                " typeCode=\"COMP\" contextConductionInd=\"true\"",
            );
            w.template("COCD_TP146230GB01#ClassificationSection", true);
            w.open("section", " classCode=\"DOCSECT\" moodCode=\"EVN\"");
            w.empty("id", &format!(" root=\"{}\"", uuid(!d.ids[5])));
            w.out.push_str(&body.out);
            w.close("section");
            w.close("component");
        } else {
            w.out.push_str(&body.out);
        }
        w.close("section");
        w.close("component");
    } else {
        // No outer section: coded entries need a section to live in, so the
        // first text section is not used; entries go into an untitled one.
        if !ent.out.is_empty() {
            w.open(
                "component",
                " typeCode=\"COMP\" contextConductionInd=\"true\"",
            );
            w.open("section", " classCode=\"DOCSECT\" moodCode=\"EVN\"");
            w.empty("id", &format!(" root=\"{}\"", uuid(d.ids[5])));
            w.out.push_str(&ent.out);
            w.close("section");
            w.close("component");
        }
        w.out.push_str(&body.out);
    }
    w.close("structuredBody");
    w.close("component");
    w.depth = 0;
    w.line(&format!("</{p}ClinicalDocument>"));
    w.out.push('\n');
    if d.crlf {
        w.out = w.out.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    w.out
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

fn maps() -> &'static MapSet {
    static MAPS: OnceLock<MapSet> = OnceLock::new();
    MAPS.get_or_init(|| match mapping::compile(&embedded::sources()) {
        Ok(m) => m,
        Err(e) => panic!("embedded mappings do not compile: {e}"),
    })
}

/// Convert one generated document and check it; `Err` describes the problem.
fn check(xml: &[u8]) -> Result<(), String> {
    check_bundle(xml).map(|_| ())
}

/// [`check`], returning the bundle.
fn check_bundle(xml: &[u8]) -> Result<serde_json::Value, String> {
    let r = convert_bytes("generated.xml", xml, maps());
    if r.outcome.as_str() != "converted" {
        return Err(format!(
            "outcome {} ({:?}); issues {:?}",
            r.outcome.as_str(),
            r.reason,
            r.issues
        ));
    }
    let bytes = r.bundle.ok_or("converted without a bundle")?;
    let bundle: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("bundle is not JSON: {e}"))?;
    let blocking: Vec<String> = itkbridge::validate::validate_full(&bundle)
        .into_iter()
        .filter(|i| i.severity.is_blocking())
        .map(|i| format!("{} {} {}", i.rule, i.location, i.message))
        .collect();
    if !blocking.is_empty() {
        return Err(format!("validator errors: {blocking:#?}"));
    }
    let problems = check_document_with("generated", xml, &bundle, false);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    Ok(bundle)
}

/// The FHIR date prefix (`YYYY-MM-DD`) of a source timestamp with a day.
fn day_of(t: &Ts) -> Option<String> {
    let (y, m, d) = t.date;
    (!matches!(t.shape, Shape::Year)).then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// Facts `check_document` does not cover, checked against the model:
/// the encounter period and the patient's birth date.
fn check_model(d: &Doc, bundle: &serde_json::Value) -> Result<(), String> {
    let mut enc = None;
    let mut pat = None;
    let mut stack = vec![bundle];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(o) => {
                match o.get("resourceType").and_then(|t| t.as_str()) {
                    Some("Encounter") => enc = Some(v),
                    Some("Patient") => pat = Some(v),
                    _ => {}
                }
                stack.extend(o.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    let enc = enc.ok_or("no Encounter")?;
    let start = enc["period"]["start"].as_str().unwrap_or("");
    if let Some(day) = day_of(&d.enc_low) {
        if !start.starts_with(&day) {
            return Err(format!(
                "Encounter.period.start {start:?} does not start with {day} (source {})",
                d.enc_low.render()
            ));
        }
    }
    if d.x.enc_shape == 0 && d.enc_high.0 == 0 {
        let end = enc["period"]["end"].as_str().unwrap_or("");
        if let Some(day) = day_of(&d.enc_high.1) {
            if !end.starts_with(&day) {
                return Err(format!(
                    "Encounter.period.end {end:?} does not start with {day} (source {})",
                    d.enc_high.1.render()
                ));
            }
        }
    }
    if d.x.birth_missing != 0 {
        if let Some(b) = pat.and_then(|p| p.get("birthDate")) {
            return Err(format!("birthDate {b} without a source birth time"));
        }
    }
    Ok(())
}

#[test]
fn generated_discharge_documents_convert_faithfully() {
    let config = Config {
        cases: std::env::var("GEN_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(CASES),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(
            std::env::var("GEN_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(SEED),
        ),
        max_shrink_iters: 150,
        ..Config::default()
    };
    let dump = std::env::var_os("GEN_DUMP").map(std::path::PathBuf::from);
    let mut runner = TestRunner::new(config);
    let failure =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated_discharge_failure.xml");
    let n = std::cell::Cell::new(0usize);
    let result = runner.run(&doc(), |d| {
        let xml = render_bytes(&d);
        if let Some(dir) = &dump {
            n.set(n.get() + 1);
            let _ = std::fs::create_dir_all(dir);
            let _ = std::fs::write(dir.join(format!("gen_{:03}.xml", n.get())), &xml);
        }
        check_bundle(&xml)
            .and_then(|b| check_model(&d, &b))
            .map_err(|e| {
                // The last failure written is the minimal one after shrinking.
                let _ = std::fs::write(&failure, &xml);
                TestCaseError::fail(e)
            })
    });
    if let Err(e) = result {
        panic!(
            "{e}\n(minimal failing document written to {})",
            failure.display()
        );
    }
}

/// The generator itself: well-formed output, decoded without fallback, that
/// the checks can fail on.
#[test]
fn generator_output_is_well_formed_and_checked() {
    let mut runner = TestRunner::new(Config {
        cases: 8,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(SEED ^ 1),
        ..Config::default()
    });
    runner
        .run(&doc(), |d| {
            let xml = render_bytes(&d);
            let text =
                itkbridge::xml::decode(&xml).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if text.fallback.is_some() {
                return Err(TestCaseError::fail("decoded by fallback"));
            }
            itkbridge::xml::Document::parse(&text.text)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", text.text)))?;
            // The checks can fail: the same bundle without its sections
            // must be reported.
            let mut bundle = check_bundle(&xml).map_err(TestCaseError::fail)?;
            drop_composition_sections(&mut bundle);
            let found = check_document_with("generated", &xml, &bundle, false);
            if !found.iter().any(|p| p.contains("word coverage")) {
                return Err(TestCaseError::fail(format!(
                    "removing every section was not noticed: {found:?}"
                )));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------
// Regressions found by the generator (each a small edit of a test document)
// ---------------------------------------------------------------------------

/// `testdata/discharge/discharge_05_duplicate_id_a.xml` with `edits`
/// (each `(from, to)` must match).
fn edited(edits: &[(&str, &str)]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/discharge/discharge_05_duplicate_id_a.xml");
    let mut xml = std::fs::read_to_string(path).expect("test document");
    for (from, to) in edits {
        assert!(xml.contains(from), "edit {from:?} does not match");
        xml = xml.replacen(from, to, 1);
    }
    xml
}

/// The edited document passes every check; its bundle as text.
fn checked_bundle_text(xml: &str) -> String {
    check(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let r = convert_bytes("edited.xml", xml.as_bytes(), maps());
    String::from_utf8(r.bundle.expect("bundle")).expect("utf-8")
}

fn patient_names(xml: &str) -> Vec<serde_json::Value> {
    let r = convert_bytes("edited.xml", xml.as_bytes(), maps());
    let bundle: serde_json::Value =
        serde_json::from_slice(&r.bundle.expect("bundle")).expect("json");
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(o) => {
                if o.get("resourceType").is_some_and(|t| t == "Patient") {
                    out.extend(o["name"].as_array().cloned().unwrap_or_default());
                }
                o.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&bundle, &mut out);
    out
}

/// A patient whose only name is a nickname/alias (`use="P"`, `"A"`) or
/// empty still gets CareConnect's official name (R37 data-absent-reason);
/// the alias is kept as a nickname.
#[test]
fn regression_patient_without_official_name() {
    for (name, parts) in [
        ("<name use=\"P\">", true),
        ("<name use=\"A\">", true),
        ("<name use=\"SRCH\">", false),
    ] {
        let xml = edited(&[(
            "<name>\n\t\t\t\t\t<prefix>Miss",
            &format!("{name}\n\t\t\t\t\t<prefix>Miss"),
        )]);
        if parts {
            check(xml.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let names = patient_names(&xml);
        assert!(
            names.iter().any(|n| n["use"] == "official"),
            "{name}: {names:?}"
        );
    }
    let xml = edited(&[(
        "<name>\n\t\t\t\t\t<prefix>Miss</prefix>\n\t\t\t\t\t<given>Poppy</given>\n\t\t\t\t\t<family>Larkham</family>\n\t\t\t\t</name>",
        "<name/>",
    )]);
    let names = patient_names(&xml);
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(names[0]["use"], "official");

    // An alias written before the legal name: official still comes first.
    let xml = edited(&[(
        "<name>\n\t\t\t\t\t<prefix>Miss",
        "<name use=\"P\"><given>Pops</given><family>Larkham</family></name>\n\t\t\t\t<name>\n\t\t\t\t\t<prefix>Miss",
    )]);
    check(xml.as_bytes()).unwrap_or_else(|e| panic!("alias first: {e}"));
    let names = patient_names(&xml);
    let uses: Vec<&str> = names.iter().filter_map(|n| n["use"].as_str()).collect();
    assert_eq!(uses, ["official", "nickname"]);
}

/// A routed section with no text of its own whose title equals its slice
/// title ("Social Context" → Social context, R30: no heading) and whose only
/// child is routed elsewhere: its title used to vanish; it now heads the
/// child (crosswalk.md §3.5 step 3).
#[test]
fn regression_empty_routed_section_title_heads_children_routed_elsewhere() {
    let xml = edited(&[(
        "\t\t\t\t</section>\n\t\t\t</component>\n\t\t</structuredBody>",
        "\t\t\t\t\t<component><section><title>Social Context</title><text/>\
         <component><section><title>Relevant investigations and results</title>\
         <text><paragraph>Serum lactate normalised overnight</paragraph></text></section></component>\
         </section></component>\n\
         \t\t\t\t</section>\n\t\t\t</component>\n\t\t</structuredBody>",
    )]);
    let out = checked_bundle_text(&xml);
    assert!(
        out.contains("<h3>Social Context – Relevant investigations and results</h3>"),
        "{out}"
    );
}

/// A legal name with given names only (no `family`): CareConnect's official
/// name needs `family`, so it carries a data-absent-reason instead of
/// failing validation.
#[test]
fn regression_patient_name_without_family() {
    let xml = edited(&[("\t\t\t\t\t<family>Larkham</family>\n", "")]);
    check(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let names = patient_names(&xml);
    assert_eq!(names[0]["use"], "official");
    assert_eq!(names[0]["given"][0], "Poppy");
    assert_eq!(
        names[0]["_family"]["extension"][0]["valueCode"], "unknown",
        "{names:?}"
    );
}

/// Two legal names (no `use`): only the first is official, the second is
/// usual (CareConnect-Patient-1 allows one official name); likewise a
/// text-only name next to a structured one.
#[test]
fn regression_patient_with_two_legal_names() {
    for second in [
        "<name><given>Pops</given><family>Larkham-Reed</family></name>",
        "<name>Pops Larkham-Reed</name>",
    ] {
        let xml = edited(&[(
            "\t\t\t\t<administrativeGenderCode code=\"2\"",
            &format!("\t\t\t\t{second}\n\t\t\t\t<administrativeGenderCode code=\"2\""),
        )]);
        check(xml.as_bytes()).unwrap_or_else(|e| panic!("{second}: {e}"));
        let names = patient_names(&xml);
        let uses: Vec<&str> = names.iter().filter_map(|n| n["use"].as_str()).collect();
        assert_eq!(uses, ["official", "usual"], "{second}");
        assert_eq!(names[0]["family"], "Larkham", "{second}");
    }
}

/// An untitled-route holder ("Physio & OT Review", no text) around a
/// container heading with text of its own ("Clinical Information"): the
/// holder's title used to be dropped; the container's block is now headed
/// "Physio & OT Review – Clinical Information".
#[test]
fn regression_container_with_text_keeps_the_titles_above_it() {
    let xml = edited(&[(
        "\t\t\t\t</section>\n\t\t\t</component>\n\t\t</structuredBody>",
        "\t\t\t\t\t<component><section><title>Physio &amp; OT Review</title>\
         <component><section><title>Clinical Information</title>\
         <text><paragraph>Walking independently with a frame</paragraph></text></section></component>\
         </section></component>\n\
         \t\t\t\t</section>\n\t\t\t</component>\n\t\t</structuredBody>",
    )]);
    let out = checked_bundle_text(&xml);
    assert!(
        out.contains("<h3>Physio &amp; OT Review – Clinical Information</h3>"),
        "{out}"
    );
}

/// A titled outer section routed to Clinical summary whose only child is an
/// untitled, text-less holder (the ITK ClassificationSection) of a section
/// routed elsewhere: the empty holder left an empty `<div></div>` in the
/// Clinical summary (with nothing else there, an empty div: txt-2, the
/// conversion failed).
#[test]
fn regression_empty_inherited_holder_leaves_no_empty_div() {
    let xml = edited(&[
        (
            "<id root=\"17960BF0-F27F-5BBD-99FB-F7C1BB45DB52\"/>",
            "<id root=\"17960BF0-F27F-5BBD-99FB-F7C1BB45DB52\"/><title>Clinical Summary</title>",
        ),
        (
            "\t\t\t\t\t<component typeCode=\"COMP\" contextConductionInd=\"true\">\n\t\t\t\t\t\t<npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"COCD_TP146061UK01#Section1\"/>",
            "\t\t\t\t\t<component><section><id root=\"743E3E5F-0D9A-510A-AA99-5533AE4F46B3\"/>\
             <component><section><title>Discharge Medications</title>\
             <text><paragraph>Metformin restarted at the usual dose</paragraph></text></section></component>\
             </section></component>\n\
             \t\t\t\t\t<component typeCode=\"COMP\" contextConductionInd=\"true\">\n\t\t\t\t\t\t<npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"COCD_TP146061UK01#Section1\"/>",
        ),
    ]);
    let out = checked_bundle_text(&xml);
    assert!(!out.contains("<div></div>"), "{out}");
}
