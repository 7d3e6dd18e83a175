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
    public async Task Only_this_nodes_leftovers_and_other_nodes_abandoned_uploads_are_removed()
    {
        var store = factory.Services.GetRequiredService<ReportStore>();
        var dir = Path.Combine(factory.DataDir, "reports", "2026", "11");
        Directory.CreateDirectory(dir);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        string Temp(string name, TimeSpan age)
        {
            var path = Path.Combine(dir, ReportStore.TempPrefix + name);
            File.WriteAllBytes(path, [1, 2, 3]);
            File.SetLastWriteTimeUtc(path, now - age);
            return path;
        }
        var mine = Temp("web-a.interrupted", TimeSpan.FromMinutes(1));
        var otherInProgress = Temp("web-b.writing", TimeSpan.FromMinutes(59));
        var prefixLookAlike = Temp("web-a-2.writing", TimeSpan.FromMinutes(1));
        var otherAbandoned = Temp("web-b.abandoned", TimeSpan.FromMinutes(61));
        var legacyAbandoned = Temp("oldname", TimeSpan.FromHours(5));
        var stored = Path.Combine(dir, "kept.pdf");
        File.WriteAllBytes(stored, [1]);
        File.SetLastWriteTimeUtc(stored, now - TimeSpan.FromDays(30));

        Assert.Equal(3, await store.CleanupTempFilesAsync());

        Assert.False(File.Exists(mine));
        Assert.False(File.Exists(otherAbandoned));
        Assert.False(File.Exists(legacyAbandoned));
        Assert.True(File.Exists(otherInProgress));
        Assert.True(File.Exists(prefixLookAlike));
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
