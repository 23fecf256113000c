//! The consistency checks: pure functions from a loaded project to findings, one module per family.

pub mod dependencies;
pub mod drift;
pub mod functions;
pub mod migrations;
pub mod routes;
pub mod schemas;
pub mod variables;

#[cfg(test)]
mod fixture;

use crate::finding::Finding;
use crate::project::python::SyntaxReport;
use crate::project::tree::Tree;
use crate::project::Project;

/// What every check reads.
pub struct CheckInput<'a> {
    pub project: &'a Project,
    /// The project's files, for checks that read beyond the model (the migrations check reads
    /// `migrations/`; `Tree::root` gives the folder on disk when there is one).
    pub tree: &'a dyn Tree,
    /// Only this environment's findings, when set (`qw validate ENV`).
    pub environment: Option<&'a str>,
    /// The Python syntax of the functions' sources, compiled beforehand.
    pub python: &'a SyntaxReport,
}

impl CheckInput<'_> {
    /// The environments in scope.
    pub fn environments(&self) -> Vec<&str> {
        match self.environment {
            Some(e) => vec![e],
            None => self.project.environments.keys().map(String::as_str).collect(),
        }
    }
}

/// One family of checks.
pub trait Check {
    /// The family's name, as in `Finding::check`.
    fn family(&self) -> &'static str;
    /// Runs the family over the project.
    fn run(&self, input: &CheckInput) -> Vec<Finding>;
}

/// A check family written as a plain function.
pub struct FnCheck {
    pub family: &'static str,
    pub run: fn(&CheckInput) -> Vec<Finding>,
}

impl Check for FnCheck {
    fn family(&self) -> &'static str {
        self.family
    }
    fn run(&self, input: &CheckInput) -> Vec<Finding> {
        (self.run)(input)
    }
}

/// The checks `qw validate` runs, in order.
pub struct Registry {
    checks: Vec<Box<dyn Check>>,
}

impl Registry {
    /// Every built-in family, plus the schema-versus-migrations slot.
    pub fn standard() -> Self {
        let mut checks: Vec<Box<dyn Check>> = vec![
            Box::new(FnCheck { family: variables::FAMILY, run: variables::check }),
            Box::new(FnCheck { family: routes::FAMILY, run: routes::check }),
            Box::new(FnCheck { family: dependencies::FAMILY, run: dependencies::check }),
            Box::new(FnCheck { family: functions::FAMILY, run: functions::check }),
            Box::new(FnCheck { family: schemas::FAMILY, run: schemas::check }),
            Box::new(FnCheck { family: drift::FAMILY, run: drift::check }),
        ];
        checks.push(migrations::schema_migrations_check());
        Registry { checks }
    }

    /// Replaces the check of the same family, or adds it.
    pub fn with(mut self, check: Box<dyn Check>) -> Self {
        match self.checks.iter().position(|c| c.family() == check.family()) {
            Some(i) => self.checks[i] = check,
            None => self.checks.push(check),
        }
        self
    }

    /// The families, in order.
    pub fn families(&self) -> Vec<&'static str> {
        self.checks.iter().map(|c| c.family()).collect()
    }

    /// Runs every check; findings keep the registry's order, then each check's own.
    pub fn run(&self, input: &CheckInput) -> Vec<Finding> {
        self.checks.iter().flat_map(|c| c.run(input)).collect()
    }
}

#[cfg(test)]
mod tests;
