using System.Net;
using System.Text.Json;
using Cimef.Site.Data.Entities;
using Cimef.Site.Imaging;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Imaging;

/// <summary>How studies find (or do not find) their patient: by invoice number, by hand, never twice.</summary>
public sealed class StudyLinkingTests(ImagingFixture fixture) : IClassFixture<ImagingFixture>
{
    private CimefFactory Factory => fixture.Factory;

    [OrthancFact]
    public async Task A_study_with_an_unknown_accession_number_stays_unlinked_and_is_listed_for_staff_with_an_audited_read()
    {
        var (_, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec("X-UNKNOWN-77", PatientName: "SOW^Inconnu", Series: 1, InstancesPerSeries: 1));
        var study = await fixture.LinkAsync(orthancId);
        Assert.Null(study.PatientId);
        Assert.Null(study.LinkSource);

        var staff = await Factory.StaffClientAsync("Secretary");
        var page = await staff.GetAsync("/Patients/UnlinkedStudies");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.TextAsync();
        Assert.Contains("SOW^Inconnu", html);
        Assert.Contains("X-UNKNOWN-77", html);
        Assert.True(await Factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == StudyLinks.ReadAction && a.EntityType == "ImagingStudy")));
    }

    [OrthancFact]
    public async Task Two_studies_for_one_invoice_are_both_linked_and_both_shown()
    {
        var p = await Factory.Data.PatientAsync();
        var (_, first) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Modality: "CT", Series: 1, InstancesPerSeries: 2));
        var (_, second) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Modality: "MR", StudyDescription: "IRM", Series: 1, InstancesPerSeries: 3));
        var a = await fixture.LinkAsync(first);
        var b = await fixture.LinkAsync(second);
        Assert.Equal(p.PatientId, a.PatientId);
        Assert.Equal(p.PatientId, b.PatientId);
        await Factory.Data.ReportAsync(p);
        var client = await Factory.PatientClientAsync(p);
        var ids = JsonDocument.Parse(await client.GetStringAsync("/api/studies/patient/")).RootElement.EnumerateArray()
            .Select(e => e.GetProperty("id").GetInt32()).Order().ToList();
        Assert.Equal(new[] { a.Id, b.Id }.Order(), ids);
        var dashboard = await (await client.GetAsync("/patient/dashboard")).TextAsync();
        Assert.Contains("Voir les images (2)", dashboard);
        Assert.Contains("Voir les images (3)", dashboard);
    }

    [OrthancFact]
    public async Task A_study_linked_by_hand_to_another_patient_then_unlinked_is_seen_by_the_right_one_only_and_stays_unlinked()
    {
        var x = await Factory.Data.PatientAsync();
        var y = await Factory.Data.PatientAsync("Awa Diop Manuel");
        var (_, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(x.InvoiceNumber, PatientName: "DIOP^Awa^Manuel", StudyDate: "20261124", Series: 1, InstancesPerSeries: 1));
        var study = await fixture.LinkAsync(orthancId);
        Assert.Equal(x.PatientId, study.PatientId);
        await Factory.Data.ReportAsync(x);
        await Factory.Data.ReportAsync(y);
        var xClient = await Factory.PatientClientAsync(x);
        var yClient = await Factory.PatientClientAsync(y);
        Assert.Equal(HttpStatusCode.OK, (await xClient.GetAsync($"/patient/images/{study.Id}")).StatusCode);

        // Staff find it on Y's page by name and date, and link it to Y's invoice.
        var staff = await Factory.StaffClientAsync("Secretary");
        var search = await (await staff.GetAsync($"/Patients/Studies/{y.PatientId}?name=diop%20manuel&date=2026-11-24")).TextAsync();
        Assert.Contains(orthancId, search);
        var linked = await staff.PostFormAsync($"/Patients/Studies/{y.PatientId}?handler=Link",
            new() { ["orthancId"] = orthancId, ["invoiceId"] = y.InvoiceId.ToString() }, tokenPage: $"/Patients/Studies/{y.PatientId}");
        Assert.Equal(HttpStatusCode.Redirect, linked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await xClient.GetAsync($"/patient/images/{study.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await yClient.GetAsync($"/patient/images/{study.Id}")).StatusCode);
        var row = await Factory.WithDbAsync(db => db.ImagingStudies.SingleAsync(s => s.Id == study.Id));
        Assert.Equal((y.PatientId, y.InvoiceId, StudyLinkSource.Manual), (row.PatientId!.Value, row.InvoiceId!.Value, row.LinkSource!.Value));

        // An invoice of someone else is refused.
        await staff.PostFormAsync($"/Patients/Studies/{y.PatientId}?handler=Link",
            new() { ["orthancId"] = orthancId, ["invoiceId"] = x.InvoiceId.ToString() }, tokenPage: $"/Patients/Studies/{y.PatientId}");
        Assert.Equal(y.InvoiceId, await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.Id == study.Id).Select(s => s.InvoiceId).SingleAsync()));

        var unlinked = await staff.PostFormAsync($"/Patients/Studies/{y.PatientId}?handler=Unlink",
            new() { ["studyId"] = study.Id.ToString() }, tokenPage: $"/Patients/Studies/{y.PatientId}");
        Assert.Equal(HttpStatusCode.Redirect, unlinked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await yClient.GetAsync($"/patient/images/{study.Id}")).StatusCode);

        // The feed sees the study again (a new instance arrives): a study unlinked by hand is not linked back by itself.
        await fixture.Orthanc.UploadAsync((await DicomStudies.MakeAsync(Path.Combine(fixture.Orthanc.Directory, "more"),
            new DicomStudySpec(x.InvoiceNumber, Series: 1, InstancesPerSeries: 1, StudyInstanceUid: study.StudyInstanceUid))).Files);
        await fixture.Orthanc.WaitStableAsync(orthancId);
        for (var i = 0; i < 50 && await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.Id == study.Id).Select(s => s.InstanceCount).SingleAsync()) < 2; i++)
        {
            await fixture.FollowChangesAsync();
            await Task.Delay(100); // Orthanc indexes the new instance in its own time (another process)
        }
        Assert.Equal(2, await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.Id == study.Id).Select(s => s.InstanceCount).SingleAsync()));
        await Factory.Data.ReportAsync(x);
        Assert.Null(await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.Id == study.Id).Select(s => s.PatientId).SingleAsync()));
        Assert.Equal(HttpStatusCode.NotFound, (await xClient.GetAsync($"/patient/images/{study.Id}")).StatusCode);
        var actions = await Factory.WithDbAsync(db => db.AuditEntries.Where(a => a.Detail!.Contains(study.StudyInstanceUid)).Select(a => a.Action).ToListAsync());
        Assert.Equal([StudyLinks.LinkAction, StudyLinks.LinkAction, StudyLinks.UnlinkAction], actions.Order());
        Assert.True(await Factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == StudyLinks.ReadAction && a.EntityId == y.PatientId.ToString())));
    }

    [OrthancFact]
    public async Task Two_nodes_reading_the_same_changes_link_a_study_once()
    {
        var p = await Factory.Data.PatientAsync();
        var (_, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 1, InstancesPerSeries: 1));
        // Wait for the StableStudy change, then let two passes (two nodes, a leader dying after recording) race on it.
        for (var i = 0; i < 100 && !(await fixture.Orthanc.GetAsync($"changes?since=0&limit=1000"))["Changes"]!.AsArray()
                 .Any(c => (string?)c!["ChangeType"] == "StableStudy" && (string?)c["ID"] == orthancId); i++)
            await Task.Delay(100); // Orthanc publishes StableStudy in its own time (another process)
        await Factory.WithDbAsync(db => db.JobStates.Where(j => j.Name == StudyLinker.JobName).ExecuteDeleteAsync());
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(fixture.FollowChangesAsync)));
        await fixture.FollowChangesAsync();
        Assert.Equal(1, await Factory.WithDbAsync(db => db.ImagingStudies.CountAsync(s => s.OrthancId == orthancId)));
        Assert.Equal(p.PatientId, await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.OrthancId == orthancId).Select(s => s.PatientId).SingleAsync()));
        var uid = await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.OrthancId == orthancId).Select(s => s.StudyInstanceUid).SingleAsync());
        Assert.Equal(1, await Factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == StudyLinks.LinkAction && a.Detail!.Contains(uid))));
    }
}
