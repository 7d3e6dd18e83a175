using Cimef.Site.Data;
using Cimef.Site.Fhir;
using Hl7.Fhir.Model;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Task = System.Threading.Tasks.Task;

namespace Cimef.Site.Imaging;

/// <summary>
/// FHIR R4 ImagingStudy for the studies linked to a patient: read (<c>/fhir/ImagingStudy/{id}</c>) and search by
/// patient (<c>patient</c>/<c>subject</c>), audited like every FHIR read. The study UID is the identifier
/// (urn:dicom:uid); subject, started, modality and the counts come from the database; the series (modality, body site
/// where the modality wrote it) from the PACS — left out, not an error, when the PACS is away. Registered only when
/// imaging is on.
/// </summary>
public static class ImagingFhir
{
    public const string Type = "ImagingStudy";
    private const string DicomModalities = "http://dicom.nema.org/resources/ontology/DCM";

    public static bool IsEnabled(IServiceProvider services) => services.GetRequiredService<IOptions<ImagingOptions>>().Value.Enabled;

    public static void Map(RouteGroupBuilder fhir)
    {
        if (!IsEnabled(((IEndpointRouteBuilder)fhir).ServiceProvider)) return;
        fhir.MapGet("/ImagingStudy/{id}", ReadAsync);
        fhir.MapGet("/ImagingStudy", SearchAsync);
    }

    /// <summary>The CapabilityStatement's entry (null when imaging is off).</summary>
    public static CapabilityStatement.ResourceComponent? Capability(IServiceProvider services) => IsEnabled(services)
        ? new CapabilityStatement.ResourceComponent
        {
            Type = Type,
            Interaction = [new() { Code = CapabilityStatement.TypeRestfulInteraction.Read }, new() { Code = CapabilityStatement.TypeRestfulInteraction.SearchType }],
            SearchParam = [new() { Name = "patient", Type = SearchParamType.Reference }, new() { Name = "subject", Type = SearchParamType.Reference }],
        }
        : null;

    /// <summary>The linked studies of each invoice (DiagnosticReport.imagingStudy); empty when imaging is off.</summary>
    public static async Task<ILookup<int, int>> ByInvoiceAsync(HttpContext http, CimefDb db, IReadOnlyCollection<int> invoiceIds, CancellationToken ct)
    {
        if (!IsEnabled(http.RequestServices) || invoiceIds.Count == 0) return Array.Empty<int>().ToLookup(i => i);
        var rows = await db.ImagingStudies.AsNoTracking().Where(s => s.PatientId != null && s.InvoiceId != null && invoiceIds.Contains(s.InvoiceId.Value))
            .OrderBy(s => s.Id).Select(s => new { s.InvoiceId, s.Id }).ToListAsync(ct);
        return rows.ToLookup(r => r.InvoiceId!.Value, r => r.Id);
    }

    private static async Task<IResult> ReadAsync(HttpContext http, string id, CimefDb db, OrthancClient orthanc, CancellationToken ct)
    {
        var study = FhirApi.ParseId(id) is int sid
            ? await db.ImagingStudies.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sid && s.PatientId != null, ct)
            : null;
        FhirAudit.Read(http, Type, id, study is null ? 0 : 1);
        return study is null ? FhirJson.NotFound($"{Type}/{FhirApi.Truncate(id)} introuvable.") : FhirJson.Resource(await ResourceAsync(study, orthanc, ct));
    }

    private static async Task<IResult> SearchAsync(HttpContext http, CimefDb db, OrthancClient orthanc, CancellationToken ct)
    {
        var query = http.Request.Query;
        var studies = db.ImagingStudies.AsNoTracking().Where(s => s.PatientId != null);
        var criteria = 0;
        foreach (var name in new[] { "patient", "subject" })
            foreach (var value in query[name])
            {
                var text = value ?? "";
                if (text.StartsWith("Patient/", StringComparison.Ordinal)) text = text["Patient/".Length..];
                if (FhirApi.ParseId(text) is not int pid) return FhirJson.BadRequest($"Paramètre {name} invalide : « {FhirApi.Truncate(value)} » (attendu : un numéro de patient).");
                studies = studies.Where(s => s.PatientId == pid);
                criteria++;
            }
        if (criteria == 0) return FhirJson.BadRequest("Recherche ImagingStudy sans critère refusée : indiquez le paramètre patient ou subject.");
        var page = await studies.OrderByDescending(s => s.StudyDate).ThenByDescending(s => s.Id).Take(FhirApi.MaxCount).ToListAsync(ct);
        FhirAudit.Search(http, Type, page.Count);
        var baseUrl = FhirApi.BaseUrl(http.Request);
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Total = page.Count };
        foreach (var s in page)
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{Type}/{s.Id}",
                Resource = await ResourceAsync(s, orthanc, ct),
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        return FhirJson.Resource(bundle);
    }

    private static async Task<Hl7.Fhir.Model.ImagingStudy> ResourceAsync(ImagingStudy s, OrthancClient orthanc, CancellationToken ct)
    {
        var resource = new Hl7.Fhir.Model.ImagingStudy
        {
            Id = FhirResources.Id(s.Id),
            Identifier = [new Identifier("urn:dicom:uid", "urn:oid:" + s.StudyInstanceUid)],
            Status = Hl7.Fhir.Model.ImagingStudy.ImagingStudyStatus.Available,
            Subject = new ResourceReference("Patient/" + FhirResources.Id(s.PatientId!.Value)),
            Started = s.StudyDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Modality = s.Modality.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(m => new Coding(DicomModalities, m)).ToList(),
            Description = s.Description.Length == 0 ? null : s.Description,
            NumberOfSeries = s.SeriesCount,
            NumberOfInstances = s.InstanceCount,
        };
        try
        {
            var number = 0;
            foreach (var series in await orthanc.SeriesListAsync(s.OrthancId, ct))
                resource.Series.Add(new Hl7.Fhir.Model.ImagingStudy.SeriesComponent
                {
                    Uid = series.Uid,
                    Number = series.Number == int.MaxValue ? ++number : series.Number,
                    Modality = new Coding(DicomModalities, series.Modality.Length == 0 ? "OT" : series.Modality),
                    Description = series.Description.Length == 0 ? null : series.Description,
                    BodySite = series.BodyPart is { } part ? new Coding { Display = part } : null,
                });
        }
        catch (OrthancClient.UnavailableException)
        {
            // The series come from the PACS: without it the study is still described by what the portal knows.
        }
        return resource;
    }
}
