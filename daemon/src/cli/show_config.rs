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
    println!(
        "# configuration file: {}{}",
        paths.config_file.display(),
        exists(&paths.config_file)
    );
    println!(
        "# database:           {}{}",
        paths.database.display(),
        exists(&paths.database)
    );
    println!("# data folder:        {}", paths.data_dir.display());
    println!("# effective configuration:");
    let mut effective = context.config.clone();
    effective.database = Some(paths.database.clone());
    print!("{}", toml::to_string(&effective)?);
    Ok(())
}
