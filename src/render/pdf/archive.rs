//! What makes an attachment an archival PDF (PDF/A): XMP metadata that
//! says the conformance (and PDF/UA-1, the tagging of `tags`) and repeats
//! the document information, an sRGB
//! output intent for the colours the pages use, and — with
//! `pdf_embed_csv` — the machine CSV reports as associated files.
//!
//! Without embedded files the document claims PDF/A-2b, the stricter
//! claim (PDF/A-2 allows no embedded file that is not itself PDF/A); with
//! them PDF/A-3b, the part made for carrying the data beside its rendering
//! (relationship `Data`, as e-invoices do).

use pdf_writer::types::{AssociationKind, OutputIntentSubtype};
use pdf_writer::{Date, Filter, Finish, Name, Pdf, Ref, Str, TextStr};

use super::font::miniz_compress;
use crate::render::csv::CsvFile;

/// The sRGB IEC 61966-2.1 profile (zlib licence, from Debian's
/// icc-profiles-free), the output intent.
static SRGB: &[u8] = include_bytes!("color/sRGB.icc");

/// What the document says about itself, in its information dictionary and
/// again in its XMP metadata (PDF/A wants the two to agree).
pub(super) struct Facts<'a> {
    pub title: &'a str,
    pub subject: &'a str,
    pub producer: &'a str,
    /// Midnight UTC of the day the document is dated.
    pub date: chrono::NaiveDate,
    /// The document's language, e.g. `en` or `de-DE`.
    pub lang: &'a str,
}

impl Facts<'_> {
    /// The date as the information dictionary writes it.
    pub fn pdf_date(&self) -> Date {
        use chrono::Datelike;
        Date::new(self.date.year() as u16)
            .month(self.date.month() as u8)
            .day(self.date.day() as u8)
            .hour(0)
            .minute(0)
            .second(0)
            .utc_offset_hour(0)
            .utc_offset_minute(0)
    }

    /// The PDF/A part claimed: 3 when files are embedded, else 2.
    pub fn part(embeds: bool) -> u8 {
        if embeds {
            3
        } else {
            2
        }
    }

    /// The XMP packet: Dublin Core title, description and format, the
    /// creation date and producer, and the PDF/A identification.
    pub fn xmp(&self, part: u8) -> String {
        format!(
            concat!(
                "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n",
                "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n",
                " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n",
                "  <rdf:Description rdf:about=\"\"\n",
                "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n",
                "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n",
                "    xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"\n",
                "    xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"\n",
                "    xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\"\n",
                "    xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\"\n",
                "    xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\"\n",
                "    xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n",
                "   <dc:format>application/pdf</dc:format>\n",
                "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n",
                "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{subject}</rdf:li></rdf:Alt></dc:description>\n",
                "   <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>\n",
                "   <xmp:CreateDate>{date}T00:00:00Z</xmp:CreateDate>\n",
                "   <pdf:Producer>{producer}</pdf:Producer>\n",
                "   <pdfaid:part>{part}</pdfaid:part>\n",
                "   <pdfaid:conformance>B</pdfaid:conformance>\n",
                "   <pdfuaid:part>1</pdfuaid:part>\n",
                // PDF/A knows pdfuaid only from this description.
                "   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n",
                "    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>\n",
                "    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\n",
                "    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\n",
                "    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType=\"Resource\">\n",
                "     <pdfaProperty:name>part</pdfaProperty:name>\n",
                "     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>\n",
                "     <pdfaProperty:category>internal</pdfaProperty:category>\n",
                "     <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed</pdfaProperty:description>\n",
                "    </rdf:li></rdf:Seq></pdfaSchema:property>\n",
                "   </rdf:li></rdf:Bag></pdfaExtension:schemas>\n",
                "  </rdf:Description>\n",
                " </rdf:RDF>\n",
                "</x:xmpmeta>\n",
                "<?xpacket end=\"w\"?>"
            ),
            title = xml_text(self.title),
            subject = xml_text(self.subject),
            lang = xml_text(self.lang),
            date = self.date.format("%Y-%m-%d"),
            producer = xml_text(self.producer),
            part = part,
        )
    }
}

/// Text for the document's title and subject: control characters from
/// data (which XMP cannot hold, and a line break XML would change) read
/// as spaces, so the information dictionary and the XMP say the same.
pub(super) fn plain(text: &str) -> String {
    text.chars()
        .map(
            |c| match c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
                true => ' ',
                false => c,
            },
        )
        .collect()
}

/// Text as XML character data: markup escaped, and the characters XML 1.0
/// cannot hold (control characters from data) left out.
fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => out.push(c),
        }
    }
    out
}

/// Writes the metadata stream (not compressed, as PDF/A asks) and the
/// output intent's ICC profile.
pub(super) fn write_metadata(pdf: &mut Pdf, metadata: Ref, icc: Ref, xmp: &str) {
    pdf.metadata(metadata, xmp.as_bytes());
    pdf.icc_profile(icc, &miniz_compress(SRGB))
        .n(3)
        .range([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
        .filter(Filter::FlateDecode);
}

/// Adds the sRGB output intent to the catalog's array of them.
pub(super) fn output_intent(catalog: &mut pdf_writer::writers::Catalog, icc: Ref) {
    let mut intents = catalog.output_intents();
    let mut intent = intents.push();
    intent
        .subtype(OutputIntentSubtype::PDFA)
        .output_condition_identifier(TextStr("sRGB IEC61966-2.1"))
        .info(TextStr("sRGB IEC61966-2.1"))
        .dest_output_profile(icc);
    intent.finish();
    intents.finish();
}

/// Writes each CSV file as an embedded file with its file specification
/// (relationship `Data`), and returns the specifications by name, in name
/// order (as the name tree wants them).
pub(super) fn embed_files(
    pdf: &mut Pdf,
    files: &[CsvFile],
    date: Date,
    mut alloc: impl FnMut() -> Ref,
) -> Vec<(String, Ref)> {
    let mut specs = Vec::new();
    for file in files {
        let (spec, stream) = (alloc(), alloc());
        let compressed = miniz_compress(&file.bytes);
        let mut embedded = pdf.embedded_file(stream, &compressed);
        embedded.subtype(Name(b"text/csv"));
        embedded.filter(Filter::FlateDecode);
        embedded
            .params()
            .size(file.bytes.len() as i32)
            .modification_date(date);
        embedded.finish();
        let mut fs = pdf.file_spec(spec);
        fs.path(Str(file.name.as_bytes()))
            .unic_file(TextStr(&file.name))
            .description(TextStr(&format!(
                "{} {} report, machine CSV (schema keys, exact values)",
                file.level, file.report
            )))
            .association_kind(AssociationKind::Data)
            .embedded_file_with_unicode(stream);
        fs.finish();
        specs.push((file.name.clone(), spec));
    }
    specs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    specs
}
