using Cimef.Site.Imaging;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Imaging;

/// <summary>
/// A site connected to a real Orthanc of its own (one per test class). Nothing starts where Orthanc or dcmtk is
/// missing: the tests that use it are skipped (<see cref="OrthancFactAttribute"/>).
/// </summary>
public sealed class ImagingFixture : IAsyncLifetime
{
    /// <summary>Served by Kestrel too once a browser test asks for its <see cref="KestrelFactory.Address"/>.</summary>
    public KestrelFactory Factory { get; } = new();
    public OrthancServer Orthanc { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (OrthancServer.MissingReason is not null) return;
        Orthanc = await OrthancServer.StartAsync();
        foreach (var (k, v) in Orthanc.Settings()) Factory.Settings[k] = v;
        Factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        if (Orthanc is not null) await Orthanc.DisposeAsync();
    }

    /// <summary>Makes a study, sends it to Orthanc, waits until it is stable; returns its files and Orthanc id.</summary>
    public async Task<(DicomStudyFiles Files, string OrthancId)> SendStudyAsync(DicomStudySpec spec)
    {
        var files = await DicomStudies.MakeAsync(Path.Combine(Orthanc.Directory, "make", Guid.NewGuid().ToString("N")), spec);
        var id = await Orthanc.UploadAsync(files.Files);
        await Orthanc.WaitStableAsync(id);
        return (files, id);
    }

    /// <summary>One pass of the changes-feed job, as the leader's worker runs it (the test host's worker is off).</summary>
    public Task<int> FollowChangesAsync() => Factory.WithScopeAsync(sp => sp.GetRequiredService<StudyLinker>().FollowChangesAsync());

    /// <summary>Waits until Orthanc has published the study's StableStudy change, then follows the feed.</summary>
    public async Task<ImagingStudy> LinkAsync(string orthancId)
    {
        for (var i = 0; i < 100; i++)
        {
            await FollowChangesAsync();
            var row = await Factory.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions
                .FirstOrDefaultAsync(db.ImagingStudies, s => s.OrthancId == orthancId));
            if (row is not null) return row;
            await Task.Delay(100); // Orthanc publishes the change in its own time (another process)
        }
        throw new TimeoutException("The study never came through the changes feed.");
    }
}
