//! The client register: who applied, who was assisted, their groups, needs and outcomes.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::{str_enum, Catalog};
use crate::csvio::{read_text, CsvOptions, CsvTable};
use crate::delivery::Interner;
use crate::error::{Error, Location, Result};
use crate::id::{ClientId, ElementCode, ProviderId};
use crate::Date;

str_enum!(
    /// The profile groups through which providers find the target group (DOMAIN.md section 1).
    TargetGroup, "target group" {
        /// At-risk families.
        RiskFamily = "risk_family",
        /// Working-age men and women.
        WorkingAge = "working_age",
        /// Victims and participants of domestic violence.
        DomesticViolence = "domestic_violence",
        /// School leavers and youth preparing for work.
        SchoolLeaver = "school_leaver",
        /// Adults who are or were residents of children's care homes.
        CareLeaver = "care_leaver",
        /// Single parents.
        SingleParent = "single_parent",
        /// Minors from social-risk families.
        RiskMinor = "risk_minor",
        /// Men and women in crisis, including people released from prison.
        Crisis = "crisis",
        /// People with addictions.
        Addiction = "addiction",
        /// Insufficiently socialised people.
        LowSocialised = "low_socialised",
        /// Foreigners who came to work in Lithuania.
        ForeignWorker = "foreign_worker",
    }
);

str_enum!(
    /// A person's status as a victim.
    VictimStatus, "victim status" {
        /// Recognised by police or a court.
        Identified = "identified",
        /// Presumed victim.
        Presumed = "presumed",
        /// Could become a victim.
        AtRisk = "at_risk",
    }
);

str_enum!(
    /// Child or adult.
    AgeBand, "age band" {
        /// Under 18.
        Child = "child",
        /// 18 or over.
        Adult = "adult",
    }
);

str_enum!(
    /// An integration outcome (KPI K4).
    Outcome, "outcome" {
        /// Social life restored.
        SocialLife = "social_life",
        /// Family relations restored.
        Family = "family",
        /// Studying.
        Studying = "studying",
        /// Working.
        Working = "working",
    }
);

/// One person in the register. Holds a pseudonym, never a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    id: ClientId,
    provider: ProviderId,
    applied_on: Date,
    assisted: bool,
    age_band: AgeBand,
    parent: Option<ClientId>,
    target_groups: Vec<TargetGroup>,
    victim_status: VictimStatus,
    cooperates: bool,
    needs: Option<Vec<ElementCode>>,
    outcomes: Vec<Outcome>,
}

impl Client {
    /// An adult applicant, not yet assisted, with no groups, assessment or outcomes.
    pub fn new(id: ClientId, provider: ProviderId, applied_on: Date) -> Self {
        Self {
            id,
            provider,
            applied_on,
            assisted: false,
            age_band: AgeBand::Adult,
            parent: None,
            target_groups: Vec::new(),
            victim_status: VictimStatus::Presumed,
            cooperates: false,
            needs: None,
            outcomes: Vec::new(),
        }
    }

    /// Marks the person as assisted (or not).
    pub fn assisted(mut self, yes: bool) -> Self {
        self.assisted = yes;
        self
    }
    /// Sets the age band.
    pub fn with_age_band(mut self, band: AgeBand) -> Self {
        self.age_band = band;
        self
    }
    /// Links a victim's child to the parent's client id.
    pub fn with_parent(mut self, parent: ClientId) -> Self {
        self.parent = Some(parent);
        self
    }
    /// Sets the target groups (the first is the primary group).
    pub fn with_target_groups(mut self, groups: Vec<TargetGroup>) -> Self {
        self.target_groups = groups;
        self
    }
    /// Sets the victim status.
    pub fn with_victim_status(mut self, status: VictimStatus) -> Self {
        self.victim_status = status;
        self
    }
    /// Sets whether the person cooperates with law enforcement.
    pub fn cooperating(mut self, yes: bool) -> Self {
        self.cooperates = yes;
        self
    }
    /// Sets the elements of the individual needs assessment.
    pub fn with_needs(mut self, needs: Vec<ElementCode>) -> Self {
        self.needs = Some(needs);
        self
    }
    /// Sets the integration outcomes.
    pub fn with_outcomes(mut self, outcomes: Vec<Outcome>) -> Self {
        self.outcomes = outcomes;
        self
    }

    /// The pseudonym.
    pub fn id(&self) -> &ClientId {
        &self.id
    }
    /// The provider the person applied to.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }
    /// When the person applied.
    pub fn applied_on(&self) -> Date {
        self.applied_on
    }
    /// Whether the person was given or organised assistance.
    pub fn is_assisted(&self) -> bool {
        self.assisted
    }
    /// Child or adult.
    pub fn age_band(&self) -> AgeBand {
        self.age_band
    }
    /// For a victim's child, the parent's id.
    pub fn parent(&self) -> Option<&ClientId> {
        self.parent.as_ref()
    }
    /// The target groups, primary first.
    pub fn target_groups(&self) -> &[TargetGroup] {
        &self.target_groups
    }
    /// The primary (first listed) target group.
    pub fn primary_group(&self) -> Option<TargetGroup> {
        self.target_groups.first().copied()
    }
    /// The victim status.
    pub fn victim_status(&self) -> VictimStatus {
        self.victim_status
    }
    /// Whether the person cooperates with law enforcement.
    pub fn cooperates(&self) -> bool {
        self.cooperates
    }
    /// The needs assessment's elements; `None` when there is no assessment.
    pub fn needs(&self) -> Option<&[ElementCode]> {
        self.needs.as_deref()
    }
    /// The integration outcomes.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }
}

/// Every client, by id, with households resolved.
///
/// Two registers are equal when they hold the same clients, wherever they were read from.
#[derive(Debug, Clone, Default)]
pub struct ClientRegister {
    clients: BTreeMap<ClientId, Client>,
    /// For a register read from a file, where each client's row is.
    rows: BTreeMap<ClientId, RowAt>,
}

/// Where a client's row is in the register file: its `parent` and `needs` cells.
#[derive(Debug, Clone)]
struct RowAt {
    parent: Location,
    needs: Location,
}

impl PartialEq for ClientRegister {
    fn eq(&self, other: &Self) -> bool {
        self.clients == other.clients
    }
}

impl Eq for ClientRegister {}

const MAX_HOUSEHOLD_DEPTH: usize = 16;

impl ClientRegister {
    /// A register of `clients`.
    ///
    /// # Errors
    ///
    /// [`Error::Register`] for an id listed twice, a parent not in the register, or a cycle
    /// of parents.
    pub fn new(clients: Vec<Client>) -> Result<Self> {
        let mut map = BTreeMap::new();
        for c in clients {
            if map.contains_key(&c.id) {
                return Err(Error::Register {
                    client: c.id.clone(),
                    message: "listed twice".to_owned(),
                });
            }
            map.insert(c.id.clone(), c);
        }
        let reg = Self {
            clients: map,
            rows: BTreeMap::new(),
        };
        for c in reg.clients.values() {
            reg.household_checked(&c.id)?;
        }
        Ok(reg)
    }

    fn household_checked(&self, id: &ClientId) -> Result<ClientId> {
        let mut cur = id;
        for _ in 0..MAX_HOUSEHOLD_DEPTH {
            let Some(c) = self.clients.get(cur) else {
                return Err(Error::Register {
                    client: id.clone(),
                    message: format!("parent `{cur}` is not in the register"),
                });
            };
            match &c.parent {
                None => return Ok(cur.clone()),
                Some(p) if p == id => break,
                Some(p) => cur = p,
            }
        }
        Err(Error::Register {
            client: id.clone(),
            message: "its chain of parents loops".to_owned(),
        })
    }

    /// The client with this id.
    pub fn get(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }

    /// The household a client belongs to: the root of its chain of parents (itself for a
    /// client with no parent); `None` for an unknown id.
    pub fn household(&self, id: &str) -> Option<&ClientId> {
        let mut c = self.clients.get(id)?;
        for _ in 0..MAX_HOUSEHOLD_DEPTH {
            match &c.parent {
                None => return Some(&c.id),
                Some(p) => c = self.clients.get(p.as_str())?,
            }
        }
        None
    }

    /// Every client, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.clients.values()
    }

    /// Every needs-assessment element that `catalog` does not know, by client id then in
    /// assessment order; empty when all are known. For a register read from a file each is an
    /// [`Error::Invalid`] naming file, line, column and the `needs` field; otherwise an
    /// [`Error::UnknownElement`] naming the client.
    ///
    /// ```
    /// use aidcost::{Catalog, Client, ClientRegister};
    /// let c = Client::new("C1".parse()?, "P1".parse()?, "2024-01-02".parse()?)
    ///     .with_needs(vec!["SHELTER".parse()?, "CONSUL".parse()?]);
    /// let reg = ClientRegister::new(vec![c])?;
    /// let unknown = reg.unknown_needs(&Catalog::shipped()?);
    /// assert_eq!(unknown.len(), 1);
    /// assert_eq!(unknown[0].to_string(), "unknown element `CONSUL` in the needs of client `C1`");
    /// # Ok::<(), aidcost::Error>(())
    /// ```
    pub fn unknown_needs(&self, catalog: &Catalog) -> Vec<Error> {
        let mut found = Vec::new();
        for c in self.clients.values() {
            for code in c.needs().unwrap_or_default() {
                if catalog.get(code.as_str()).is_some() {
                    continue;
                }
                found.push(match self.rows.get(&c.id) {
                    Some(at) => Error::Invalid {
                        location: at.needs.clone(),
                        field: "needs".to_owned(),
                        message: format!(
                            "client `{}`: unknown element `{code}`: not in the catalog",
                            c.id
                        ),
                    },
                    None => Error::UnknownElement {
                        element: code.clone(),
                        context: format!("the needs of client `{}`", c.id),
                    },
                });
            }
        }
        found
    }

    /// The number of clients.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

const COLUMNS: &[&str] = &[
    "client",
    "provider",
    "applied_on",
    "assisted",
    "age_band",
    "parent",
    "target_groups",
    "victim_status",
    "cooperates",
    "needs",
    "outcomes",
];
const REQUIRED: &[&str] = &["client", "provider", "applied_on", "assisted"];

/// Reads a client register from CSV text; `origin` names the file in errors.
///
/// # Errors
///
/// The first problem: a malformed cell as [`Error::Invalid`] naming file, line, column and
/// field; a client listed twice as [`Error::DuplicateClient`]; a parent not in the register
/// or a loop of parents as [`Error::Invalid`] at the client's `parent` cell.
/// [`read_clients_all`] lists every one.
pub fn read_clients(text: &str, origin: &Path, options: CsvOptions) -> Result<ClientRegister> {
    let (reg, mut errors) = read_clients_all(text, origin, options);
    if errors.is_empty() {
        Ok(reg)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// Reads a client register file.
///
/// # Errors
///
/// [`Error::Io`] when unreadable, otherwise as [`read_clients`].
pub fn load_clients(path: impl AsRef<Path>, options: CsvOptions) -> Result<ClientRegister> {
    let path = path.as_ref();
    read_clients(&read_text(path)?, path, options)
}

/// Reads a client register, listing every problem; the register holds the rows that were
/// read well (with a dangling parent link dropped only when that is itself listed).
pub fn read_clients_all(
    text: &str,
    origin: &Path,
    options: CsvOptions,
) -> (ClientRegister, Vec<Error>) {
    let mut errors = Vec::new();
    let mut table = match CsvTable::open(text, origin, options, REQUIRED, COLUMNS) {
        Ok(t) => t,
        Err(e) => return (ClientRegister::default(), vec![e]),
    };
    let mut ids = Interner::default();
    let mut clients: BTreeMap<ClientId, Client> = BTreeMap::new();
    let mut rows: BTreeMap<ClientId, RowAt> = BTreeMap::new();
    loop {
        let row = match table.next_row() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let line = row.line;
        let at = RowAt {
            parent: row.location("parent"),
            needs: row.location("needs"),
        };
        let parsed = (|| -> Result<Client> {
            let id_err = |col: &str, e: Error| row.error(col, crate::catalog::reason_of(&e));
            let id = ids
                .client(row.get("client"))
                .map_err(|e| id_err("client", e))?;
            let provider = ids
                .provider(row.get("provider"))
                .map_err(|e| id_err("provider", e))?;
            let parent = match row.get("parent") {
                "" => None,
                p => Some(ids.client(p).map_err(|e| id_err("parent", e))?),
            };
            let list = |col: &str| -> Vec<&str> {
                row.get(col)
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            let mut target_groups = Vec::new();
            for g in list("target_groups") {
                target_groups.push(g.parse().map_err(|e| id_err("target_groups", e))?);
            }
            // Separators alone (`|`) are no assessment, like an empty cell.
            let needs = if list("needs").is_empty() {
                None
            } else {
                let mut v = Vec::new();
                for n in list("needs") {
                    v.push(ids.element(n).map_err(|e| id_err("needs", e))?);
                }
                Some(v)
            };
            let mut outcomes = Vec::new();
            for o in list("outcomes") {
                outcomes.push(o.parse().map_err(|e| id_err("outcomes", e))?);
            }
            Ok(Client {
                id,
                provider,
                applied_on: row.parse("applied_on")?,
                assisted: row.flag("assisted")?,
                age_band: match row.get("age_band") {
                    "" => AgeBand::Adult,
                    _ => row.parse("age_band")?,
                },
                parent,
                target_groups,
                victim_status: match row.get("victim_status") {
                    "" => VictimStatus::Presumed,
                    _ => row.parse("victim_status")?,
                },
                cooperates: row.optional_flag("cooperates")?,
                needs,
                outcomes,
            })
        })();
        match parsed {
            Ok(c) => {
                if clients.contains_key(&c.id) {
                    errors.push(Error::DuplicateClient {
                        location: crate::Location::new(origin, line, 1),
                        client: c.id,
                    });
                } else {
                    rows.insert(c.id.clone(), at);
                    clients.insert(c.id.clone(), c);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let mut reg = ClientRegister { clients, rows };
    let ids: Vec<ClientId> = reg.clients.keys().cloned().collect();
    for id in ids {
        if let Err(e) = reg.household_checked(&id) {
            errors.push(match (e, reg.rows.get(&id)) {
                (Error::Register { client, message }, Some(at)) => Error::Invalid {
                    location: at.parent.clone(),
                    field: "parent".to_owned(),
                    message: format!("client `{client}`: {message}"),
                },
                (e, _) => e,
            });
            if let Some(c) = reg.clients.get_mut(&id) {
                c.parent = None;
            }
        }
    }
    (reg, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "client,provider,applied_on,assisted,age_band,parent,target_groups,victim_status,cooperates,needs,outcomes\n";

    #[test]
    fn reads_a_register_with_households() {
        let text = format!(
            "{HEADER}C1,P1,2019-02-01,yes,adult,,working_age|crisis,identified,yes,CONSULT|SHELTER,working\n\
             C2,P1,2019-02-01,taip,child,C1,risk_minor,presumed,no,,\n\
             C3,P1,2019-03-01,no,adult,,,,,,\n"
        );
        let reg = read_clients(&text, Path::new("c.csv"), CsvOptions::detect()).unwrap();
        assert_eq!(reg.len(), 3);
        let c1 = reg.get("C1").unwrap();
        assert_eq!(c1.primary_group(), Some(TargetGroup::WorkingAge));
        assert_eq!(c1.needs().unwrap().len(), 2);
        assert_eq!(reg.get("C2").unwrap().needs(), None);
        assert_eq!(reg.household("C2").unwrap().as_str(), "C1");
        assert!(!reg.get("C3").unwrap().is_assisted());
    }

    #[test]
    fn refuses_bad_cells_duplicates_and_dangling_parents() {
        let text = format!(
            "{HEADER}C1,P1,2019-02-01,maybe,adult,,,,,,\n\
             C2,P1,2019-02-01,yes,adult,,smugglers,,,,\n\
             C3,P1,2019-02-01,yes,child,C9,,,,,\n\
             C3,P1,2019-02-01,yes,adult,,,,,,\n"
        );
        let (_, errors) = read_clients_all(&text, Path::new("c.csv"), CsvOptions::detect());
        let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("c.csv:2:4: field `assisted`: `maybe`"),
            "{}",
            msgs[0]
        );
        assert!(
            msgs[1].starts_with("c.csv:3:7: field `target_groups`: `smugglers`"),
            "{}",
            msgs[1]
        );
        assert_eq!(msgs[2], "c.csv:5:1: client `C3` is listed twice");
        assert_eq!(
            msgs[3],
            "c.csv:4:6: field `parent`: client `C3`: parent `C9` is not in the register"
        );
    }

    #[test]
    fn a_loop_of_parents_is_refused() {
        let a = Client::new(
            "A".parse().unwrap(),
            "P".parse().unwrap(),
            "2019-01-01".parse().unwrap(),
        )
        .with_parent("B".parse().unwrap());
        let b = Client::new(
            "B".parse().unwrap(),
            "P".parse().unwrap(),
            "2019-01-01".parse().unwrap(),
        )
        .with_parent("A".parse().unwrap());
        let err = ClientRegister::new(vec![a, b]).unwrap_err();
        assert!(err.to_string().contains("loops"), "{err}");
    }

    #[test]
    fn an_empty_assisted_cell_is_refused_but_an_empty_cooperates_is_no() {
        let text = format!(
            "{HEADER}C1,P1,2019-02-01,,adult,,,,,,\n\
             C2,P1,2019-02-01,yes,adult,,,,,,\n"
        );
        let (reg, errors) = read_clients_all(&text, Path::new("c.csv"), CsvOptions::detect());
        let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            ["c.csv:2:4: field `assisted`: empty; a value is required (yes or no)"]
        );
        assert!(!reg.get("C2").unwrap().cooperates());
    }

    #[test]
    fn needs_of_separators_only_are_no_assessment() {
        let text = format!(
            "{HEADER}C1,P1,2019-02-01,yes,adult,,,,,|,\nC2,P1,2019-02-01,yes,adult,,,,, | | ,\n"
        );
        let reg = read_clients(&text, Path::new("c.csv"), CsvOptions::detect()).unwrap();
        assert_eq!(reg.get("C1").unwrap().needs(), None);
        assert_eq!(reg.get("C2").unwrap().needs(), None);
    }

    #[test]
    fn unknown_needs_name_the_cell_when_read_from_a_file() {
        let catalog = Catalog::shipped().unwrap();
        let text = format!(
            "{HEADER}C1,P1,2019-02-01,yes,adult,,,,,SHELTER|CONSUL,\n\
             C2,P1,2019-02-01,yes,adult,,,,,CONSULT,\n"
        );
        let reg = read_clients(&text, Path::new("c.csv"), CsvOptions::detect()).unwrap();
        let msgs: Vec<String> = reg
            .unknown_needs(&catalog)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            msgs,
            ["c.csv:2:10: field `needs`: client `C1`: unknown element `CONSUL`: not in the catalog"]
        );
    }

    #[test]
    fn a_personal_code_in_the_parent_column_is_masked() {
        let text = format!("{HEADER}C1,P1,2019-02-01,yes,child,Jonas 39001010000,,,,,\n");
        let (_, errors) = read_clients_all(&text, Path::new("c.csv"), CsvOptions::detect());
        let msg = errors[0].to_string();
        assert!(
            msg.starts_with("c.csv:2:6: field `parent`: client id `*********00`"),
            "{msg}"
        );
        assert!(!msg.contains("390010100"), "{msg}");
    }
}
