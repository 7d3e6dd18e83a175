#!/usr/bin/env pwsh
# CIMEF Portal build script. Works under Windows PowerShell 5.1 and PowerShell 7 (pwsh, provided by `dotnet tool restore`).
#   ./run.ps1                 run the site (Development: demo data on an empty database)
#   ./run.ps1 test [sqlite|postgres]  run every test on both engines (the same commands as README and .ci/run), or one pass
#   ./run.ps1 test postgres   the PostgreSQL pass: feature tests against a throwaway PostgreSQL cluster the tests start
#   ./run.ps1 publish         self-contained folders for linux-x64 and win-x64 under publish/
#   ./run.ps1 bench [load]    benchmark table (Cimef.Site.Bench/results/benchmark.md); "load" adds the 200-patient load and soak
#   ./run.ps1 bench peer      the published site side by side with the seed's Django design (../shared/peers/django-seed), wrk A/B/A/B
#   ./run.ps1 backup [DIR]    verified backup of the data directory (default: data/backups/<date>)
#   ./run.ps1 migration NAME  after a model change: migration NAME for SQLite and for PostgreSQL, both compiled models regenerated
param(
    [Parameter(Position = 0)][string]$Verb = "run",
    [Parameter(Position = 1, ValueFromRemainingArguments = $true)][string[]]$Rest
)
$ErrorActionPreference = "Stop"
Set-Location -Path $PSScriptRoot

function Invoke-Checked([string]$File, [string[]]$Arguments) {
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Restore-Npm {
    if (-not (Test-Path "node_modules/htmx.org/dist/htmx.min.js")) { Invoke-Checked "npm" @("ci", "--no-audit", "--no-fund") }
}

switch ($Verb) {
    "run" {
        Restore-Npm
        Invoke-Checked "dotnet" (@("run", "--project", "Cimef.Site") + $(if ($Rest) { @("--") + $Rest } else { @() }))
    }
    "test" {
        Restore-Npm
        # The whole suite on SQLite, then on a throwaway PostgreSQL cluster the tests start ("sqlite" or "postgres" runs one pass).
        if (-not ($Rest -contains "postgres")) { Invoke-Checked "dotnet" @("test", "Cimef.sln", "--filter", "Category!=Bench") }
        if (-not ($Rest -contains "sqlite")) {
            $env:CIMEF_TEST_PROVIDER = "Postgres"
            try { Invoke-Checked "dotnet" @("test", "Cimef.sln", "--filter", "Category!=Bench&Provider!=SqliteOnly") }
            finally { Remove-Item Env:CIMEF_TEST_PROVIDER }
        }
    }
    "publish" {
        Restore-Npm
        foreach ($rid in @("linux-x64", "win-x64")) {
            Invoke-Checked "dotnet" @("publish", "Cimef.Site", "-c", "Release", "-r", $rid, "--self-contained", "true", "-o", "publish/$rid")
            Write-Host "Published publish/$rid"
        }
    }
    "bench" {
        Restore-Npm
        # "load" and "peer" run against the published site; "peer" runs only the side-by-side bench (Linux: gunicorn, wrk).
        $filter = "Category=Bench&Kind!=Load&Kind!=Peer"
        if ($Rest -contains "load") { $filter = "Category=Bench&Kind!=Peer" }
        if ($Rest -contains "peer") { $filter = "Category=Bench&Kind=Peer" }
        if (($Rest -contains "load") -or ($Rest -contains "peer")) {
            $rid = $(if ($IsWindows -or $env:OS -eq "Windows_NT") { "win-x64" } else { "linux-x64" })
            Invoke-Checked "dotnet" @("publish", "Cimef.Site", "-c", "Release", "-r", $rid, "--self-contained", "true", "-o", "publish/$rid")
        }
        Invoke-Checked "dotnet" @("test", "Cimef.Site.Bench", "-c", "Release", "--filter", $filter, "--logger", "console;verbosity=normal")
        Get-Content "Cimef.Site.Bench/results/benchmark.md"
    }
    "backup" {
        $out = $(if ($Rest) { $Rest[0] } else { Join-Path "Cimef.Site/data/backups" (Get-Date -Format "yyyyMMdd-HHmmss") })
        Invoke-Checked "dotnet" @("run", "--project", "Cimef.Site", "--", "backup", "--out", $out)
    }
    "migration" {
        if (-not $Rest -or $Rest.Count -ne 1) {
            [Console]::Error.WriteLine("Usage: ./run.ps1 migration NAME (one migration NAME per engine, compiled models regenerated)")
            exit 2
        }
        $name = $Rest[0]
        Restore-Npm
        Invoke-Checked "dotnet" @("tool", "restore")
        Invoke-Checked "dotnet" @("build", "Cimef.Site")
        # One model, one migration set per engine (siblings under Data/Migrations) and one compiled model per engine;
        # output paths are relative to the project. The build above serves all four commands.
        $engines = @(@{ Context = "CimefDb"; Folder = "Sqlite" }, @{ Context = "PostgresCimefDb"; Folder = "Postgres" })
        foreach ($engine in $engines) {
            Invoke-Checked "dotnet" @("ef", "migrations", "add", $name, "--project", "Cimef.Site", "--no-build",
                "--context", $engine.Context, "-o", "Data/Migrations/$($engine.Folder)")
        }
        foreach ($engine in $engines) {
            Invoke-Checked "dotnet" @("ef", "dbcontext", "optimize", "--project", "Cimef.Site", "--no-build",
                "-c", $engine.Context, "-o", "Data/CompiledModels/$($engine.Folder)", "-n", "Cimef.Site.Data.CompiledModels.$($engine.Folder)")
        }
    }
    default {
        [Console]::Error.WriteLine("Unknown verb '$Verb'. Use: run | test [sqlite|postgres] | publish | bench [load|peer] | backup [DIR] | migration NAME")
        exit 2
    }
}
