//! Test-only stand-in for `kind` and `kubectl`; see README.md. argv[0]'s file name picks which.

mod app;
mod faults;
mod flags;
mod kind;
mod kubectl;
mod pace;
mod record;
mod state;
mod util;

fn main() {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    let tool = std::path::Path::new(&argv0).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let args: Vec<String> = argv.map(|a| a.to_string_lossy().into_owned()).collect();
    let env = app::Env::from_process();
    let code =
        app::run(&tool, args, &env, &mut std::io::stdin().lock(), &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
