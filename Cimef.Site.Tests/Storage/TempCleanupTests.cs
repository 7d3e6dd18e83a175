using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Storage;

/// <summary>A reports folder several nodes share, as node "web-a": the start-up clean-up removes only what no node is writing.</summary>
public sealed class NodeAFactory : CimefFactory
{
    public NodeAFactory() => Settings["Cluster:NodeName"] = "web-a";
}

public class TempCleanupTests(NodeAFactory factory) : IClassFixture<NodeAFactory>
{
    [Fact]
    public async Task Leftovers_of_processes_that_no_longer_run_and_abandoned_uploads_are_removed_never_one_in_progress()
    {
        var store = factory.Services.GetRequiredService<ReportStore>();
        // A month of its own: the files this test keeps must not meet the other tests' saves (fake clock: 2026/11).
        var dir = Path.Combine(factory.DataDir, "reports", "2020", "01");
        Directory.CreateDirectory(dir);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        string Temp(string name, TimeSpan age)
        {
            var path = Path.Combine(dir, ReportStore.TempPrefix + name);
            File.WriteAllBytes(path, [1, 2, 3]);
            File.SetLastWriteTimeUtc(path, now - age);
            return path;
        }
        var machine = new string(Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').ToArray());
        // A process that ran on this machine and has exited (a killed or crashed site), whatever its node name.
        using var gone = System.Diagnostics.Process.Start("true")!;
        await gone.WaitForExitAsync();
        var deadWriter = Temp($"web-a.{machine}.{gone.Id}.interrupted", TimeSpan.FromMinutes(1));
        var otherNodeDead = Temp($"web-b.{machine}.{gone.Id}.interrupted", TimeSpan.FromMinutes(1));
        // Process 1 always runs: an upload in progress by another process of this machine (a `check` run must not touch it).
        var running = Temp($"web-a.{machine}.1.writing", TimeSpan.FromMinutes(59));
        var otherMachine = Temp("web-b.host2.1234.writing", TimeSpan.FromMinutes(59));
        var otherAbandoned = Temp("web-b.host2.1234.abandoned", TimeSpan.FromMinutes(61));
        var legacyRecent = Temp("web-a.interrupted", TimeSpan.FromMinutes(1));
        var legacyAbandoned = Temp("oldname", TimeSpan.FromHours(5));
        var stored = Path.Combine(dir, "kept.pdf");
        File.WriteAllBytes(stored, [1]);
        File.SetLastWriteTimeUtc(stored, now - TimeSpan.FromDays(30));

        Assert.Equal(4, await store.CleanupTempFilesAsync());

        Assert.False(File.Exists(deadWriter));
        Assert.False(File.Exists(otherNodeDead));
        Assert.False(File.Exists(otherAbandoned));
        Assert.False(File.Exists(legacyAbandoned));
        Assert.True(File.Exists(running));
        Assert.True(File.Exists(otherMachine));
        Assert.True(File.Exists(legacyRecent));
        Assert.True(File.Exists(stored));
    }

    [Fact]
    public async Task A_saved_file_leaves_no_temp_file_and_is_listed()
    {
        var store = (FileSystemReportStore)factory.Services.GetRequiredService<ReportStore>();
        var saved = await store.SaveAsync(new MemoryStream("%PDF-1.4 x"u8.ToArray()), "pdf");
        Assert.True(File.Exists(store.FullPath(saved.StoredFileName)));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(store.FullPath(saved.StoredFileName))!, ReportStore.TempPrefix + "web-a.*"));
        Assert.Contains(saved.StoredFileName, await store.ListAsync().ToListAsync());
    }

    [Theory]
    [InlineData(59, false)]
    [InlineData(61, true)]
    public void The_safe_age_rule_is_shared_by_both_stores(int minutes, bool abandoned)
    {
        var now = CimefFactory.Start;
        Assert.Equal(abandoned, ReportStore.IsAbandoned(now.AddMinutes(-minutes), now, TimeSpan.FromMinutes(60)));
    }
}
