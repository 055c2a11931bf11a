//! The words of a document in its language: one message catalogue for every
//! visible word of PDF, XLSX and human CSV (titles, title-block labels,
//! column headers, subtotal and total rows, page footers, sheet names).
//! Machine CSV keys never change.
//!
//! Each message lists its text per language in [`Lang`] order, so adding a
//! language is adding one entry to each array; the compiler refuses a
//! message left untranslated. Placeholders are `{name}`, filled by
//! [`Words::fill`].

use crate::column::Column;
use crate::level::{Level, ReportKind};

/// A language of documents. English serves en-GB and en-US.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    English,
    German,
    French,
}

/// Languages, in the order of every message's texts.
const LANGS: usize = 3;

/// The words of one language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Words {
    lang: Lang,
}

/// A message with words in it (data never is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    UsageReport,
    /// `{customer}`: a document's subject.
    UsageOf,
    /// `{level}`, `{group}`: an itemised group's heading, "Site: London HQ".
    GroupHeading,
    Customer,
    Invoice,
    Period,
    /// `{from}`, `{to}`: the first and last day billed.
    PeriodRange,
    TimeZone,
    Profile,
    Company,
    Sample,
    /// `{rows}`, `{of}`, `{seed}`.
    SampleOf,
    WholeInvoice,
    /// `{calls}`, `{total}`.
    WholeInvoiceTotals,
    /// `{title}`.
    SampleTitle,
    UsageTotals,
    /// `{group}`.
    Subtotal,
    Total,
    /// `{group}`.
    CarriedForward,
    /// `{group}`.
    BroughtForward,
    /// `{title}`.
    Continued,
    /// `{n}`, `{count}`.
    PageOf,
    /// `{customer}`, `{invoice}`.
    Footer,
    /// `{n}`: the calls rolled into the row.
    OtherCalls,
    /// A call type's destinations beyond `top_destinations`.
    OtherDestinations,
    Inbound,
    Outbound,
    Sheet,
    Report,
    Rows,
    /// `{rows}`, `{place}`, `{level}`.
    DetailElsewhere,
    /// `{rows}`, `{level}`.
    DetailLeftOut,
    /// `{formats}`: "CSV".
    TheAttachment,
    /// `{formats}`: "CSV and XLSX".
    TheAttachments,
    And,
}

impl Msg {
    fn texts(self) -> [&'static str; LANGS] {
        use Msg::*;
        match self {
            UsageReport => ["Usage report", "Verbrauchsbericht", "Relevé de consommation"],
            UsageOf => [
                "Usage of customer {customer}",
                "Verbrauch des Kunden {customer}",
                "Consommation du client {customer}",
            ],
            GroupHeading => ["{level}: {group}", "{level}: {group}", "{level} : {group}"],
            Customer => ["Customer", "Kunde", "Client"],
            Invoice => ["Invoice", "Rechnung", "Facture"],
            Period => ["Period", "Zeitraum", "Période"],
            PeriodRange => ["{from} to {to}", "{from} bis {to}", "du {from} au {to}"],
            TimeZone => ["Time zone", "Zeitzone", "Fuseau horaire"],
            Profile => ["Profile", "Profil", "Profil"],
            Company => ["Company", "Unternehmen", "Société"],
            Sample => ["Sample", "Stichprobe", "Échantillon"],
            SampleOf => [
                "{rows} of {of} records (seed {seed}), not the whole invoice",
                "{rows} von {of} Datensätzen (Startwert {seed}), nicht die ganze Rechnung",
                "{rows} sur {of} enregistrements (graine {seed}), pas la facture entière",
            ],
            WholeInvoice => ["Whole invoice", "Ganze Rechnung", "Facture entière"],
            WholeInvoiceTotals => [
                "{calls} calls, total {total} (the sample's totals are below)",
                "{calls} Anrufe, Summe {total} (die Summen der Stichprobe stehen unten)",
                "{calls} appels, total {total} (les totaux de l'échantillon suivent)",
            ],
            SampleTitle => ["{title} (sample)", "{title} (Stichprobe)", "{title} (échantillon)"],
            UsageTotals => ["Usage totals", "Verbrauchssummen", "Totaux de consommation"],
            Subtotal => ["Subtotal {group}", "Zwischensumme {group}", "Sous-total {group}"],
            Total => ["Total", "Summe", "Total"],
            CarriedForward => [
                "{group} carried forward",
                "{group} Übertrag",
                "{group} à reporter",
            ],
            BroughtForward => [
                "{group} brought forward",
                "{group} Übertrag von Vorseite",
                "{group} report",
            ],
            Continued => ["{title} (continued)", "{title} (Fortsetzung)", "{title} (suite)"],
            PageOf => ["Page {n} of {count}", "Seite {n} von {count}", "Page {n} sur {count}"],
            Footer => [
                "{customer} · Invoice {invoice}",
                "{customer} · Rechnung {invoice}",
                "{customer} · Facture {invoice}",
            ],
            OtherCalls => ["Other calls ({n})", "Weitere Anrufe ({n})", "Autres appels ({n})"],
            OtherDestinations => ["Other", "Sonstige", "Autres"],
            Inbound => ["inbound", "eingehend", "entrants"],
            Outbound => ["outbound", "ausgehend", "sortants"],
            Sheet => ["Sheet", "Blatt", "Feuille"],
            Report => ["Report", "Bericht", "Rapport"],
            Rows => ["Rows", "Zeilen", "Lignes"],
            DetailElsewhere => [
                "{rows} rows: the itemised detail is in {place}; subtotals per {level} follow.",
                "{rows} Zeilen: die Einzelaufstellung steht {place}; es folgen die Zwischensummen je {level}.",
                "{rows} lignes : le détail figure dans {place} ; les sous-totaux par {level} suivent.",
            ],
            DetailLeftOut => [
                "{rows} rows: the itemised detail is left out of this document; subtotals per {level} follow.",
                "{rows} Zeilen: die Einzelaufstellung ist nicht in diesem Dokument; es folgen die Zwischensummen je {level}.",
                "{rows} lignes : le détail n'est pas repris dans ce document ; les sous-totaux par {level} suivent.",
            ],
            TheAttachment => [
                "the {formats} attachment",
                "im Anhang {formats}",
                "la pièce jointe {formats}",
            ],
            TheAttachments => [
                "the {formats} attachments",
                "in den Anhängen {formats}",
                "les pièces jointes {formats}",
            ],
            And => ["and", "und", "et"],
        }
    }
}

impl Words {
    pub fn new(lang: Lang) -> Words {
        Words { lang }
    }

    fn pick(self, texts: [&'static str; LANGS]) -> &'static str {
        texts[self.lang as usize]
    }

    /// A message without placeholders.
    pub fn get(self, msg: Msg) -> &'static str {
        self.pick(msg.texts())
    }

    /// A message with its `{name}` placeholders filled. Values are inserted
    /// once, left to right, so a value containing `{…}` is never filled in
    /// turn.
    pub fn fill(self, msg: Msg, values: &[(&str, &str)]) -> String {
        let template = self.get(msg);
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').map(|close| (&after[..close], close)) {
                Some((name, close)) => {
                    match values.iter().find(|(n, _)| *n == name) {
                        Some((_, value)) => out.push_str(value),
                        None => out.push_str(&rest[open..open + close + 2]),
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// A level's name inside a sentence: "subtotals per site", "je
    /// Standort" (German nouns keep their capital).
    pub fn level_in_sentence(self, level: Level) -> String {
        match self.lang {
            Lang::German => self.level(level).to_string(),
            Lang::English | Lang::French => self.level(level).to_lowercase(),
        }
    }

    /// A level's name, as in "Site: London HQ".
    pub fn level(self, level: Level) -> &'static str {
        self.pick(match level {
            Level::Customer => ["Customer", "Kunde", "Client"],
            Level::Site => ["Site", "Standort", "Site"],
            Level::Campaign => ["Campaign", "Kampagne", "Campagne"],
            Level::Number => ["Number", "Rufnummer", "Numéro"],
        })
    }

    /// The one name of the group with no key at a level: "(no site)".
    pub fn no_key(self, level: Level) -> &'static str {
        self.pick(match level {
            Level::Customer => ["(no customer)", "(ohne Kunde)", "(sans client)"],
            Level::Site => ["(no site)", "(ohne Standort)", "(sans site)"],
            Level::Campaign => ["(no campaign)", "(ohne Kampagne)", "(sans campagne)"],
            Level::Number => ["(no number)", "(ohne Rufnummer)", "(sans numéro)"],
        })
    }

    /// A report's title, e.g. "Site calls", "Anrufe je Standort".
    pub fn report_title(self, level: Level, kind: ReportKind) -> String {
        let what = self.pick(match kind {
            ReportKind::Summary => ["summary", "Übersicht", "Synthèse"],
            ReportKind::CallTypes => ["call types", "Anrufarten", "Types d'appel"],
            ReportKind::Calls => ["calls", "Anrufe", "Appels"],
            ReportKind::Transactions => ["transactions", "Buchungen", "Transactions"],
        });
        match self.lang {
            Lang::English => format!("{} {what}", self.level(level)),
            Lang::German => format!("{what} je {}", self.level(level)),
            Lang::French => format!("{what} par {}", self.level_in_sentence(level)),
        }
    }

    /// A column's header. `display`: where durations are shown as h:mm:ss
    /// (PDF, XLSX) rather than as seconds (CSV, whose labels say "(s)").
    /// Times name the zone they are shown in.
    pub fn column(self, column: Column, zone: &str, display: bool) -> String {
        let label = match self.lang {
            Lang::English => {
                return if display {
                    column.display_label(zone)
                } else {
                    column.label(zone)
                }
            }
            _ => self.pick(column_texts(column)),
        };
        let seconds = !display && column.kind() == crate::column::ColumnKind::Duration;
        match column {
            Column::StartTime => format!("{label} ({zone})"),
            _ if seconds => format!("{label} (s)"),
            _ => label.to_string(),
        }
    }
}

/// Column headers: English (unused: [`Column::label`] is the English
/// source), German, French.
fn column_texts(column: Column) -> [&'static str; LANGS] {
    use Column::*;
    let english = column.base_label();
    let [de, fr] = match column {
        RecordType => ["Datensatztyp", "Type d'enregistrement"],
        CustomerId => ["Kunde", "Client"],
        Site => ["Standort", "Site"],
        Campaign => ["Kampagne", "Campagne"],
        Number => ["Rufnummer", "Numéro"],
        CallId => ["Anruf-ID", "ID d'appel"],
        StartTime => ["Beginn", "Début"],
        Caller => ["Anrufer", "Appelant"],
        Dialled => ["Gewählt", "Numéro composé"],
        Destination => ["Ziel", "Destination"],
        CallType => ["Anrufart", "Type d'appel"],
        Direction => ["Richtung", "Sens"],
        Duration => ["Dauer", "Durée"],
        BilledDuration => ["Abgerechnete Dauer", "Durée facturée"],
        Rate => ["Tarif pro Minute", "Tarif par minute"],
        Charge => ["Entgelt", "Coût"],
        TransactionId => ["Buchungs-ID", "ID de transaction"],
        Date => ["Datum", "Date"],
        TransactionType => ["Buchungsart", "Type de transaction"],
        Description => ["Beschreibung", "Description"],
        Quantity => ["Menge", "Quantité"],
        UnitPrice => ["Einzelpreis", "Prix unitaire"],
        Amount => ["Betrag", "Montant"],
        Calls => ["Anrufe", "Appels"],
        CallCharge => ["Anrufentgelte", "Coût des appels"],
        Transactions => ["Buchungen", "Transactions"],
        TransactionAmount => ["Buchungsbetrag", "Montant des transactions"],
        Total => ["Summe", "Total"],
        InboundCalls => ["Eingehende Anrufe", "Appels entrants"],
        InboundDuration => ["Eingehende Dauer", "Durée entrante"],
        InboundCallCharge => ["Eingehende Entgelte", "Coût entrant"],
        OutboundCalls => ["Ausgehende Anrufe", "Appels sortants"],
        OutboundDuration => ["Ausgehende Dauer", "Durée sortante"],
        OutboundCallCharge => ["Ausgehende Entgelte", "Coût sortant"],
        OtherCalls => ["Weitere Anrufe", "Autres appels"],
        Leg => ["Teilstrecke", "Tronçon"],
        CallGroup => ["Anrufgruppe", "Groupe d'appel"],
        Legs => ["Teilstrecken", "Tronçons"],
    };
    [english, de, fr]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_left_to_right() {
        let de = Words::new(Lang::German);
        assert_eq!(
            de.fill(Msg::PageOf, &[("n", "2"), ("count", "9")]),
            "Seite 2 von 9"
        );
        // A value that looks like a placeholder stays as written.
        let en = Words::default();
        assert_eq!(
            en.fill(Msg::Subtotal, &[("group", "{group} {n}")]),
            "Subtotal {group} {n}"
        );
    }

    #[test]
    fn every_column_has_a_header_in_every_language() {
        for lang in [Lang::English, Lang::German, Lang::French] {
            let words = Words::new(lang);
            for column in Column::ALL {
                let label = words.column(*column, "Europe/Paris", false);
                assert!(!label.trim().is_empty(), "{column:?}");
            }
        }
        let fr = Words::new(Lang::French);
        assert_eq!(
            fr.column(Column::StartTime, "Europe/Paris", true),
            "Début (Europe/Paris)"
        );
        assert_eq!(fr.column(Column::Duration, "UTC", false), "Durée (s)");
        assert_eq!(
            fr.report_title(Level::Site, ReportKind::Calls),
            "Appels par site"
        );
    }
}
