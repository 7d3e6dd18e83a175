using Cimef.Site.FrontDesk;

namespace Cimef.Site.Pages.Patients;

/// <summary>What the shared _Form partial needs from the create and edit pages.</summary>
public interface IPatientFormPage
{
    PatientForm Input { get; }
    IReadOnlyList<PatientRules.Duplicate> Duplicates { get; }
    string FormAction { get; }
}
