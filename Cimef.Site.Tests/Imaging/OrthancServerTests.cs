using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Imaging;

/// <summary>The test PACS itself: a study made with img2dcm arrives whole, with the tags a modality sets.</summary>
public sealed class OrthancServerTests
{
    [OrthancFact]
    public async Task A_generated_study_arrives_with_its_tags_series_and_instances()
    {
        await using var orthanc = await OrthancServer.StartAsync();
        var dir = Path.Combine(orthanc.Directory, "make");
        var files = await DicomStudies.MakeAsync(dir, new DicomStudySpec("FAC-2026-000042", Series: 2, InstancesPerSeries: 3));
        var studyId = await orthanc.UploadAsync(files.Files);
        await orthanc.WaitStableAsync(studyId);

        var study = await orthanc.GetAsync($"studies/{studyId}");
        Assert.Equal("FAC-2026-000042", (string?)study["MainDicomTags"]!["AccessionNumber"]);
        Assert.Equal(files.StudyInstanceUid, (string?)study["MainDicomTags"]!["StudyInstanceUID"]);
        Assert.Equal("DIOP^Awa", (string?)study["PatientMainDicomTags"]!["PatientName"]);
        Assert.Equal(2, study["Series"]!.AsArray().Count);
        var stats = await orthanc.GetAsync($"studies/{studyId}/statistics");
        Assert.Equal(6, (int)stats["CountInstances"]!);
        Assert.Equal(files.SopInstanceUids.Order(), (await DicomStudies.SopInstanceUidsAsync(files.Files)).Order());
    }
}
