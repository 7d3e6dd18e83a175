using Cimef.Site;
using Cimef.Site.Access;
using Cimef.Site.Api;
using Cimef.Site.Auditing;
using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Fhir;
using Cimef.Site.FrontDesk;
using Cimef.Site.Imaging;
using Cimef.Site.Notifications;
using Cimef.Site.Pages;
using Cimef.Site.Payments;
using Cimef.Site.Portal;
using Cimef.Site.Reports;
using Cimef.Site.Web;
using Htmx.TagHelpers;
using Microsoft.Extensions.Options;

// Composition root only: each feature registers and maps itself (AddX / MapX beside its code); this file says which
// features the site has, the order of the pipeline, and the CLI dispatch.
var verb = CliRunner.VerbOf(args);
var builder = WebSetup.CreateBuilder(args, cli: verb is not null);
builder.AddWebDefaults();
builder.AddCimefOptions();
builder.AddMetrics(); // Prometheus /metrics for the allowed addresses or token (Metrics:*)
builder.Services
    .AddDatabase()
    .AddKeyRing()
    .AddStaffIdentity()
    .AddCimefPages()
    .AddRateLimits()
    .AddAccess()
    .AddFrontDesk()
    .AddPayments()
    .AddReports()
    .AddNotifications()
    .AddFhir()
    .AddPatientPortal()
    .AddImaging(builder.Configuration) // images from the clinic's PACS (Imaging:Orthanc:Url; off without it)
    .AddAuditing();

var app = builder.Build();

if (verb is not null) return await CliRunner.RunAsync(app.Services, args);

try
{
    KeyRing.RefuseUnprotected(app.Services);
    await DatabaseStartup.InitializeAsync(app.Services);
}
catch (OptionsValidationException e)
{
    return InvalidConfiguration(e);
}
catch (StartupRefusedException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}
if (app.Environment.IsDevelopment()) await DemoSeed.SeedIfEmptyAsync(app.Services, Console.Out);

app.UseWebPipeline();

app.MapHtmxAntiforgeryScript();
app.MapRazorPages();
app.MapHealth();
app.MapMetrics();
app.MapPortalApp(); // the installable patient web app: manifest, icons, service worker
// Every /api endpoint: a cookie-authenticated state change needs a JSON body or an antiforgery token (CSRF).
var api = app.MapGroup("").AddEndpointFilter<ApiCsrfFilter>();
api.MapPatientsApi(); // front desk and billing
api.MapExamsApi();
api.MapInvoicesApi();
api.MapPaymentLinkApi();
api.MapAccessApi();
api.MapReportsApi();
api.MapPortalApi(); // the patient's JSON API
app.MapImaging(); // study images and archives for the patient and a doctor's share
// Provider webhooks: anonymous and signed, no cookie, so outside the cookie API's CSRF filter.
app.MapPaymentWebhooks();
app.MapFhirApi(); // FHIR R4: Bearer tokens only, outside the cookie API's CSRF filter

try
{
    app.Run();
}
catch (OptionsValidationException e)
{
    return InvalidConfiguration(e);
}
return 0;

// A wrong setting stops the start with a readable message, not a stack trace.
static int InvalidConfiguration(OptionsValidationException e)
{
    Console.Error.WriteLine("Configuration invalide : " + string.Join(" ", e.Failures));
    return 3;
}

public partial class Program;
