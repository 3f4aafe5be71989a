//! `tikker config`: the effective configuration and the paths in use.

use super::RunContext;

pub fn run(context: &RunContext) -> anyhow::Result<()> {
    let paths = &context.paths;
    let exists = |p: &std::path::Path| {
        if p.exists() {
            ""
        } else {
            " (does not exist yet)"
        }
    };
    outln!(
        "# configuration file: {}{}",
        paths.config_file.display(),
        exists(&paths.config_file)
    );
    outln!(
        "# database:           {}{}",
        paths.database.display(),
        exists(&paths.database)
    );
    outln!("# data folder:        {}", paths.data_dir.display());
    outln!("# effective configuration:");
    let mut effective = context.config.clone();
    effective.database = Some(paths.database.clone());
    out!("{}", toml::to_string(&effective)?);
    Ok(())
}
