using Cimef.Site.Access;
using Cimef.Site.Portal;
using Cimef.Site.Api;
using Cimef.Site.Languages;
using Cimef.Site.Reports;
using Cimef.Site.Web;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Imaging;

/// <summary>
/// Images from the clinic's PACS (Orthanc): registered only when Imaging:Orthanc:Url is set; otherwise nothing of it
/// runs, is mapped or shows (the pages answer 404). The routes:
/// <list type="bullet">
/// <item><c>GET /api/studies/patient/</c>: the session's patient's released studies (JSON).</item>
/// <item><c>GET /api/studies/{id}/archive/</c>: the study's ZIP (the images page links it).</item>
/// <item><c>GET /patient/images/{id}/i/{instance}</c> (<c>?t=1</c>: the thumbnail): one JPEG.</item>
/// <item><c>GET /s/{token}/images/{id}/i/{instance}</c> and <c>/s/{token}/images/{id}/archive</c>: the same through a doctor's share.</item>
/// </list>
/// The pages themselves are Pages/Portal/Images and Pages/Share/Images.
/// </summary>
public static class ImagingSetup
{
    /// <summary>How long a client should wait before asking again when the PACS is away.</summary>
    public const string RetryAfterSeconds = "60";

    public static IServiceCollection AddImaging(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ImagingOptions>().Bind(configuration.GetSection(ImagingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(ImagingOptions.Section).Get<ImagingOptions>() ?? new ImagingOptions();
        if (!options.Enabled) return services;
        services.AddHttpClient<OrthancClient>(OrthancClient.HttpClientName, (sp, client) =>
            OrthancClient.Configure(client, sp.GetRequiredService<IOptions<ImagingOptions>>().Value));
        services.AddSingleton<PacsHealth>();
        services.AddScoped<StudyRelease>();
        services.AddScoped<StudyLinker>();
        services.AddScoped<StudyLinks>();
        services.AddScoped<StudyImages>();
        services.AddScoped<StudyDelivery>();
        services.AddHostedService<ImagingWorker>();
        return services;
    }

    public static void MapImaging(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<ImagingOptions>>().Value.Enabled) return;
        var patient = app.MapGroup("").RequireAuthorization(Policies.Patient);
        patient.MapGet("/api/studies/patient/", PatientStudiesAsync).ForPatients();
        patient.MapGet("/api/studies/{id}/archive/", PatientArchiveAsync).ForPatients(download: true);
        patient.MapGet(PatientRoutes.Images + "/{id}/i/{instance}", PatientImageAsync).ForPatients();
        var share = app.MapGroup("").AllowAnonymous();
        share.MapGet("/s/{token}/images/{id}/i/{instance}", ShareImageAsync);
        share.MapGet("/s/{token}/images/{id}/archive", ShareArchiveAsync);
    }

    /// <summary>Whether imaging is configured (Imaging:Orthanc:Url), for the links that lead to it.</summary>
    public static bool IsEnabled(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<ImagingOptions>>().Value.Enabled;

    /// <summary>
    /// The dashboard's « Voir les images (N) » links for the listed reports; none (and no query) when imaging is off.
    /// </summary>
    public static async Task<IReadOnlyList<StudyRelease.Link>> DashboardLinksAsync(HttpContext http, IReadOnlyList<int> reportIds)
    {
        if (http.RequestServices.GetService<StudyRelease>() is not { } release) return [];
        var db = http.RequestServices.GetRequiredService<Data.CimefDb>();
        var invoices = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.PatientReports.Where(r => reportIds.Contains(r.Id)).Select(r => new { r.Id, r.InvoiceId }), http.RequestAborted);
        var order = reportIds.Select(id => invoices.First(i => i.Id == id)).Select(i => (i.Id, i.InvoiceId)).ToList();
        return await release.LinksAsync(http.User.PatientId(), order, http.RequestAborted);
    }

    /// <summary>The studies shown with a doctor's share: those of the shared report's invoice; none when imaging is off.</summary>
    public static async Task<IReadOnlyList<StudyRelease.Row>> SharedStudiesAsync(HttpContext http, Data.Entities.ReportShare share)
    {
        if (http.RequestServices.GetService<StudyRelease>() is not { } release) return [];
        return await release.ForInvoiceAsync(await release.PatientOfAccessAsync(share.PatientAccessId, http.RequestAborted),
            share.Report.InvoiceId, http.RequestAborted);
    }

    public sealed record StudyJson(int Id, string? Date, string Modality, string Description, int Series, int Images, long ArchiveBytes);

    private static async Task<IResult> PatientStudiesAsync(HttpContext http, StudyRelease release)
    {
        http.Response.Headers.CacheControl = "no-store";
        var rows = await release.ForPatientAsync(http.User.PatientId(), http.RequestAborted);
        return Results.Json(rows.Select(r => new StudyJson(r.Id, r.Date?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            r.Modality, r.Description, r.Series, r.Images, r.ArchiveBytes)));
    }

    private static async Task<IResult> PatientArchiveAsync(HttpContext http, string id, StudyRelease release, StudyDelivery delivery)
    {
        http.Response.Headers.CacheControl = "no-store";
        var study = await release.FindAsync(http.User.PatientId(), id, http.RequestAborted);
        if (study is null) return NotFound(http);
        return await Unavailable(http, async () =>
            await delivery.ArchiveAsync(http, study, new ReportDelivery.Patient(http.User.AccessId()), http.RequestAborted) ?? NotFound(http));
    }

    private static async Task<IResult> PatientImageAsync(HttpContext http, string id, string instance, StudyRelease release, StudyImages images)
    {
        http.Response.Headers.CacheControl = "no-store";
        var study = await release.FindAsync(http.User.PatientId(), id, http.RequestAborted);
        return study is null ? NotFound(http) : await ImageAsync(http, study, instance, images);
    }

    private static async Task<IResult> ShareImageAsync(HttpContext http, string token, string id, string instance, ReportShares shares,
        StudyRelease release, StudyImages images)
    {
        http.Response.Headers.CacheControl = "no-store";
        var study = await ShareStudyAsync(http, token, id, shares, release);
        return study is null ? NotFound(http) : await ImageAsync(http, study.Value.Study, instance, images);
    }

    private static async Task<IResult> ShareArchiveAsync(HttpContext http, string token, string id, ReportShares shares, StudyRelease release,
        StudyDelivery delivery)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (await ShareStudyAsync(http, token, id, shares, release) is not var (study, share)) return NotFound(http);
        return await Unavailable(http, async () => await delivery.ArchiveAsync(http, study,
            new ReportDelivery.Share(share.PatientAccessId, ReportShares.Detail(share)), http.RequestAborted) ?? NotFound(http));
    }

    /// <summary>The study behind a share link that this browser unlocked with the code; null otherwise.</summary>
    public static async Task<(ImagingStudy Study, Data.Entities.ReportShare Share)?> ShareStudyAsync(HttpContext http, string? token, string? id,
        ReportShares shares, StudyRelease release)
    {
        var share = await shares.FindValidAsync(token, http.RequestAborted);
        if (share is null || !shares.HasSession(http.Request, share)) return null;
        var study = await release.FindForShareAsync(share, id, http.RequestAborted);
        return study is null ? null : (study, share);
    }

    private static Task<IResult> ImageAsync(HttpContext http, ImagingStudy study, string instance, StudyImages images) => Unavailable(http, async () =>
    {
        var size = http.Request.Query["t"] == "1" ? StudyImages.Size.Thumbnail : StudyImages.Size.Full;
        var jpeg = await images.JpegAsync(study, instance, size, http.RequestAborted);
        if (jpeg is null) return NotFound(http);
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Bytes(jpeg, "image/jpeg");
    });

    /// <summary>The PACS or the store away: the French 503 with Retry-After (JSON on the API), never a 500.</summary>
    private static async Task<IResult> Unavailable(HttpContext http, Func<Task<IResult>> serve)
    {
        try
        {
            return await serve();
        }
        catch (Exception e) when (e is OrthancClient.UnavailableException or Storage.ReportStore.UnavailableException)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
            return http.Request.IsApi()
                ? ApiJson.Error(PatientText.Get("images_unavailable"), StatusCodes.Status503ServiceUnavailable)
                : Results.Text(PatientText.Get("images_unavailable"), "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static IResult NotFound(HttpContext http) => http.Request.IsApi()
        ? ApiJson.NotFound(PatientMessages.ReportNotFound)
        : Results.NotFound();
}
