using Cimef.Site.Data;
using Cimef.Site.Imaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Cimef.Site.Tests.Cluster;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Imaging;

/// <summary>
/// Two nodes on one PostgreSQL database, both running the changes-feed worker: only the leader links; when it dies,
/// a study that arrives afterwards is linked by the other node, and every study exactly once.
/// </summary>
public sealed class LeaderFailoverTests
{
    [PostgresOrthancFact]
    public async Task A_study_arriving_while_the_leader_dies_is_linked_once_by_the_other_node()
    {
        await using var orthanc = await OrthancServer.StartAsync();
        using var nodes = new TwoHosts(node =>
        {
            foreach (var (k, v) in orthanc.Settings()) node.Settings[k] = v;
            node.Settings["Notifications:WorkerEnabled"] = "true"; // the polling workers run (outbox, changes feed)
            node.Settings["Notifications:PollSeconds"] = "1";
        });
        var p = await nodes.A.Data.PatientAsync();
        var second = await nodes.A.Data.InvoiceAsync(p, Cimef.Site.Data.Entities.InvoiceStatus.Sent);
        var dir = Path.Combine(orthanc.Directory, "make");

        var one = await orthanc.UploadAsync((await DicomStudies.MakeAsync(dir, new DicomStudySpec(p.InvoiceNumber, Series: 1, InstancesPerSeries: 1))).Files);
        await orthanc.WaitStableAsync(one);
        await LinkedAsync(nodes, one);

        // The leader dies (its workers stop, its database session and the lock with it; its database stays, B's too);
        // a study arrives meanwhile; the other node takes the lead and links it.
        nodes.A.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await nodes.A.Services.GetRequiredService<ClusterLeader>().DisposeAsync();
        var two = await orthanc.UploadAsync((await DicomStudies.MakeAsync(dir, new DicomStudySpec(second.InvoiceNumber, Series: 1, InstancesPerSeries: 1))).Files);
        await orthanc.WaitStableAsync(two);
        await LinkedAsync(nodes, two, onlyB: true);

        foreach (var id in new[] { one, two })
        {
            Assert.Equal(1, await nodes.B.WithDbAsync(db => db.ImagingStudies.CountAsync(s => s.OrthancId == id)));
            var uid = await nodes.B.WithDbAsync(db => db.ImagingStudies.Where(s => s.OrthancId == id).Select(s => s.StudyInstanceUid).SingleAsync());
            Assert.Equal(1, await nodes.B.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == StudyLinks.LinkAction && a.Detail!.Contains(uid))));
        }
        Assert.Equal(second.InvoiceId, await nodes.B.WithDbAsync(db => db.ImagingStudies.Where(s => s.OrthancId == two).Select(s => s.InvoiceId).SingleAsync()));
    }

    /// <summary>Ticks the nodes' clocks (their workers poll on them) until the study is linked.</summary>
    private static async Task LinkedAsync(TwoHosts nodes, string orthancId, bool onlyB = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (onlyB) nodes.B.Time.Advance(TimeSpan.FromSeconds(1));
            else nodes.Advance(TimeSpan.FromSeconds(1));
            if (await nodes.B.WithDbAsync(db => db.ImagingStudies.AnyAsync(s => s.OrthancId == orthancId && s.PatientId != null))
                    .WaitAsync(TimeSpan.FromSeconds(30)))
                return;
            await Task.Delay(100); // the surviving node polls Orthanc, another process, in real time
        }
        throw new TimeoutException("No node linked the study.");
    }
}

/// <summary>A [Fact] for the PostgreSQL pass with Orthanc installed (a cluster of nodes needs PostgreSQL).</summary>
public sealed class PostgresOrthancFactAttribute : FactAttribute
{
    public PostgresOrthancFactAttribute() =>
        Skip = OrthancServer.MissingReason ?? (TestDatabase.IsPostgres ? null : "PostgreSQL pass only (CIMEF_TEST_PROVIDER=Postgres).");
}
