fn main() -> anyhow::Result<()> {
    aftercare::cli::main()
}
