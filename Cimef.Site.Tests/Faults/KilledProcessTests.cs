using System.Diagnostics;
using Cimef.Site.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Tests.Faults;

/// <summary>A process killed in the middle of its work leaves a consistent data directory.</summary>
[Trait("Provider", "SqliteOnly")] // SQLite online backup and integrity_check
public class KilledProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cimef-kill-tests", Guid.NewGuid().ToString("N"));
    private string Data => Path.Combine(_root, "data");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Backup_killed_midway_leaves_the_database_intact_and_no_usable_half_backup()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        // Enough report bytes that the copy takes a moment.
        var bulk = Path.Combine(Data, "reports", "bulk");
        Directory.CreateDirectory(bulk);
        var block = new byte[4 * 1024 * 1024];
        Random.Shared.NextBytes(block);
        for (var i = 0; i < 48; i++) await File.WriteAllBytesAsync(Path.Combine(bulk, $"f{i}.bin"), block);

        var target = Path.Combine(_root, "backup");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { SiteProcess.SiteDll, "backup", "--out", target }) psi.ArgumentList.Add(a);
        psi.Environment["Storage__DataDirectory"] = Data;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var p = Process.Start(psi)!;
        // Kill as soon as the partial backup folder holds some copied report files.
        var sw = Stopwatch.StartNew();
        while (!p.HasExited && sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            var partial = Directory.Exists(_root) ? Directory.GetDirectories(_root, "backup.partial-*").FirstOrDefault() : null;
            if (partial is not null && Directory.Exists(Path.Combine(partial, "reports", "bulk")) &&
                Directory.GetFiles(Path.Combine(partial, "reports", "bulk")).Length >= 2)
                break;
            Thread.Yield();
        }
        Assert.False(p.HasExited, "backup finished before it could be interrupted");
        p.Kill(entireProcessTree: true);
        await p.WaitForExitAsync();

        Assert.Equal("ok", Sqlite.IntegrityCheck(Path.Combine(Data, "cimef.db")));
        SqliteConnection.ClearAllPools();
        Assert.False(Directory.Exists(target), "an interrupted backup must not look like a finished one");
        var half = Directory.GetDirectories(_root, "backup.partial-*").Single();
        var restore = await SiteProcess.RunAsync(Data, "restore", "--from", half);
        Assert.NotEqual(0, restore.ExitCode);
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "check")).ExitCode);
        var again = await SiteProcess.RunAsync(Data, "backup", "--out", target);
        Assert.True(again.ExitCode == 0, again.Stderr);
    }
}
