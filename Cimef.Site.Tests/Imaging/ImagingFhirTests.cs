using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Portal;
using Hl7.Fhir.Rest;
using Cimef.Site.Tests.Fhir;
using Cimef.Site.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Microsoft.EntityFrameworkCore;
using Task = System.Threading.Tasks.Task;
using ImagingStudy = Hl7.Fhir.Model.ImagingStudy;

namespace Cimef.Site.Tests.Imaging;

/// <summary>FHIR ImagingStudy (read, search by patient, audited), DiagnosticReport.imagingStudy, and the CapabilityStatement saying so.</summary>
public sealed class ImagingFhirTests : IClassFixture<ImagingFixture>
{
    private readonly ImagingFixture _fixture;
    private CimefFactory Factory => _fixture.Factory;

    public ImagingFhirTests(ImagingFixture fixture)
    {
        _fixture = fixture;
        fixture.Factory.Settings["Portal:Url"] = "https://localhost/patient";
    }

    [OrthancFact]
    public async Task An_integration_reads_and_searches_imaging_studies_and_finds_them_from_the_report()
    {
        var p = await Factory.Data.PatientAsync();
        var (files, orthancId) = await _fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Modality: "MR", StudyDescription: "IRM du genou", Series: 2, InstancesPerSeries: 2));
        var study = await _fixture.LinkAsync(orthancId);
        var reportId = await Factory.Data.ReportAsync(p);
        var fhir = FhirApiTests.Client(await Factory.Data.ApiClientAsync(Roles.Integration));

        var statement = await fhir.CapabilityStatementAsync();
        var imaging = Assert.Single(statement!.Rest[0].Resource, r => r.Type == "ImagingStudy");
        Assert.Contains(imaging.SearchParam, sp => sp.Name == "patient");

        var read = (await fhir.ReadAsync<ImagingStudy>($"ImagingStudy/{study.Id}"))!;
        Assert.Equal($"Patient/{p.PatientId}", read.Subject.Reference);
        Assert.Equal("urn:oid:" + files.StudyInstanceUid, read.Identifier.Single().Value);
        Assert.Equal("2026-11-25", read.Started);
        Assert.Equal("MR", read.Modality.Single().Code);
        Assert.Equal((2, 4), (read.NumberOfSeries!.Value, read.NumberOfInstances!.Value));
        Assert.Equal(2, read.Series.Count);
        Assert.All(read.Series, s => Assert.Equal("MR", s.Modality.Code));

        var bundle = await fhir.SearchAsync<ImagingStudy>(["patient=" + p.PatientId]);
        Assert.Equal(study.Id.ToString(), Assert.Single(bundle!.Entry).Resource!.Id);
        var report = await fhir.ReadAsync<DiagnosticReport>($"DiagnosticReport/{reportId}");
        Assert.Equal($"ImagingStudy/{study.Id}", Assert.Single(report!.ImagingStudy).Reference);

        await Assert.ThrowsAsync<Hl7.Fhir.Rest.FhirOperationException>(() => fhir.ReadAsync<ImagingStudy>("ImagingStudy/999999"));
        await Assert.ThrowsAsync<Hl7.Fhir.Rest.FhirOperationException>(() => fhir.SearchAsync<ImagingStudy>([]));
        await Factory.FlushEventsAsync();
        Assert.True(await Factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "fhir.read" && a.EntityType == "ImagingStudy" && a.EntityId == study.Id.ToString())));
        Assert.True(await Factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "fhir.search" && a.EntityType == "ImagingStudy")));
    }
}
