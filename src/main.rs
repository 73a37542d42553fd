use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use assetmap::config::{Cli, Command};
use assetmap::{cli, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Cli::parse();
    telemetry::init(args.log_format);
    match args.command {
        None => cli::serve(&args.db, &args.serve).await,
        Some(Command::Serve(serve)) => cli::serve(&args.db, &serve).await,
        Some(Command::Migrate) => cli::migrate(&args.db).await,
        Some(Command::Import(import)) => cli::import(&args.db, &import).await,
        Some(Command::Export(export)) => cli::export(&args.db, &export).await,
        Some(Command::Token(token)) => cli::token(&args.db, &token).await,
        Some(Command::Postcodes(command)) => cli::postcodes(&args.db, &command).await,
        Some(Command::Schema) => {
            print!("{}", assetmap::graphql::sdl());
            Ok(())
        }
    }
}
